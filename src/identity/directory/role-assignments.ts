import { RESOURCE_TYPES, roleAssignmentId } from "../../names/arm-resource-ids.ts";
import type { ArmResource, Store } from "../../store/store.ts";
import { roleDefinitionIdFor } from "./built-in-roles.ts";
import { badRequest, notFound } from "./directory-error.ts";
import { type RoleAssignment, toRoleAssignment } from "./directory-rows.ts";
import type { Principals } from "./principals.ts";
import type { ResourceGroups } from "./resource-groups.ts";
import { propertiesOf, type ResourceInput } from "./resource-input.ts";
import { getResourceOfType } from "./resource-lookup.ts";
import {
  checkRoleAssignmentFits,
  checkRoleAssignmentName,
  checkRoleAssignmentScope,
  parseRoleAssignmentRequest,
  scopeTarget,
} from "./role-assignment-rules.ts";
import type { Tenants } from "./tenants.ts";

/** Role assignments at any scope: a subscription, a resource group, a resource or a vault's secret. */
export class RoleAssignments {
  readonly #store: Store;
  readonly #tenants: Tenants;
  readonly #groups: ResourceGroups;
  readonly #principals: Principals;

  constructor(store: Store, tenants: Tenants, groups: ResourceGroups, principals: Principals) {
    this.#store = store;
    this.#tenants = tenants;
    this.#groups = groups;
    this.#principals = principals;
  }

  async put(scope: string, name: string, input: ResourceInput): Promise<ArmResource> {
    checkRoleAssignmentName(name);
    const { subscription } = await this.#checkScopeExists(scope);
    const request = parseRoleAssignmentRequest(propertiesOf(input));
    const { tenantId } = await this.#tenants.getSubscription(subscription);
    if (!(await this.#principals.principalExists(request.principalId, tenantId))) {
      throw badRequest(
        "PrincipalNotFound",
        `Principal ${request.principalId} does not exist in the directory ${tenantId}.`,
      );
    }
    const id = roleAssignmentId(scope, name);
    const current = await this.#store.getResource(id);
    checkRoleAssignmentFits(
      id,
      scope,
      request,
      await this.listAt(scope),
      current && toRoleAssignment(current),
    );
    const assignment: ArmResource = {
      id,
      name,
      type: RESOURCE_TYPES.roleAssignment,
      properties: {
        roleDefinitionId: roleDefinitionIdFor(subscription, request.role),
        principalId: request.principalId.toLowerCase(),
        principalType: request.principalType,
        scope,
        createdOn: current?.properties.createdOn ?? new Date().toISOString(),
      },
    };
    await this.#store.putResource(assignment);
    return assignment;
  }

  async get(id: string): Promise<ArmResource> {
    return getResourceOfType(this.#store, id, RESOURCE_TYPES.roleAssignment, "role assignment");
  }

  /** Deletes the assignment and returns it; undefined when there was no assignment at `id`. */
  async delete(id: string): Promise<ArmResource | undefined> {
    const found = await this.#store.getResource(id);
    if (!found || found.type.toLowerCase() !== RESOURCE_TYPES.roleAssignment.toLowerCase()) return undefined;
    await this.#store.deleteResource(id);
    return found;
  }

  /** Assignments at the scope and beneath it. */
  async listAt(scope: string): Promise<RoleAssignment[]> {
    const all = await this.#store.listResources({ type: RESOURCE_TYPES.roleAssignment, under: scope });
    return all.map(toRoleAssignment);
  }

  /** Every assignment of one principal, at any scope. */
  async listFor(principalId: string): Promise<RoleAssignment[]> {
    const all = await this.#store.listResources({
      type: RESOURCE_TYPES.roleAssignment,
      property: { name: "principalId", value: principalId.toLowerCase() },
    });
    return all.map(toRoleAssignment);
  }

  /** The scope's subscription, group and resource must exist; returns the parsed scope. */
  async #checkScopeExists(scope: string) {
    const parsed = checkRoleAssignmentScope(scope);
    await this.#tenants.getSubscription(parsed.subscription);
    if (!parsed.resourceGroup) return parsed;
    await this.#groups.get(parsed.subscription, parsed.resourceGroup);
    if (!parsed.resourcePath) return parsed;
    const target = scopeTarget(scope);
    if (!(await this.#store.getResource(target))) {
      throw notFound("ResourceNotFound", `The scope '${scope}' does not exist: no resource '${target}'.`);
    }
    return parsed;
  }
}
