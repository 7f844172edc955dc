import type { Store } from "../../store/store.ts";
import { AppRegistrations } from "./app-registrations.ts";
import { ConfigurationStores } from "./configuration-stores.ts";
import { Identities } from "./identities.ts";
import { ManagedClusters } from "./managed-clusters.ts";
import { Principals } from "./principals.ts";
import { type EraseVaultContents, ResourceGroups } from "./resource-groups.ts";
import { RoleAssignments } from "./role-assignments.ts";
import { Tenants } from "./tenants.ts";
import { Vaults } from "./vaults.ts";

export interface DirectoryOptions {
  /** Called before a vault is deleted (alone or with its group) to erase the secrets it holds. */
  eraseVaultContents: EraseVaultContents;
}

/**
 * The directory, one piece per resource, all over one store. Each piece enforces the rules ARM and Entra
 * enforce on its writes; callers take only the pieces they need.
 */
export interface Directory {
  tenants: Tenants;
  groups: ResourceGroups;
  identities: Identities;
  apps: AppRegistrations;
  /** Identities and service principals together, as sign-in and role assignments see them. */
  principals: Principals;
  vaults: Vaults;
  configurationStores: ConfigurationStores;
  clusters: ManagedClusters;
  roleAssignments: RoleAssignments;
}

export function createDirectory(store: Store, options: DirectoryOptions): Directory {
  const tenants = new Tenants(store);
  const groups = new ResourceGroups(store, tenants, options.eraseVaultContents);
  const identities = new Identities(store, tenants, groups);
  const apps = new AppRegistrations(store, tenants);
  const principals = new Principals(identities, apps);
  return {
    tenants,
    groups,
    identities,
    apps,
    principals,
    vaults: new Vaults(store, tenants, groups, options.eraseVaultContents),
    configurationStores: new ConfigurationStores(store, groups),
    clusters: new ManagedClusters(store, groups),
    roleAssignments: new RoleAssignments(store, tenants, groups, principals),
  };
}
