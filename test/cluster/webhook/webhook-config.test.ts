// The webhook server's flags and environment (webhook.md §14.1–§14.3): defaults, every upstream start-up
// error text exactly, CONFIG_-prefixed variables, and wikit's additions (--port, --shutdown-delay-seconds,
// rotator object names, emulation).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  buildWebhookConfig,
  type Environment,
  listenAddress,
  qualifiedNameErrors,
  type WebhookConfig,
  type WebhookFlags,
} from "../../../src/cluster/webhook/webhook-config.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ENV: Environment = { AZURE_TENANT_ID: TENANT };

function config(
  flags: WebhookFlags = {},
  env: Environment = ENV,
  readFile?: (path: string) => string,
): WebhookConfig {
  const built = buildWebhookConfig(flags, env, readFile ? { readFile } : {});
  if (!built.ok) return assert.fail(`unexpected error: ${built.error}`);
  return built.value;
}

function error(
  flags: WebhookFlags = {},
  env: Environment = ENV,
  readFile?: (path: string) => string,
): string {
  const built = buildWebhookConfig(flags, env, readFile ? { readFile } : {});
  if (built.ok) return assert.fail("expected a configuration error");
  return built.error;
}

describe("defaults", () => {
  test("with only AZURE_TENANT_ID set, every setting has upstream's default", () => {
    assert.deepEqual(config(), {
      mutation: { tenantId: TENANT, authorityHost: "https://login.microsoftonline.com/", logLevel: "" },
      certDir: "/certs",
      disableCertRotation: false,
      tlsMinVersion: "TLSv1.3",
      healthAddress: { host: "", port: 9440 },
      metricsAddress: { host: "", port: 8095 },
      metricsBackend: "prometheus",
      logLevel: "",
      loggerLevel: "info",
      port: 9443,
      bindAddress: "",
      shutdownDelayMs: 0,
      namespace: "azure-workload-identity-system",
      certSecretName: "azure-wi-webhook-server-cert",
      serviceName: "azure-wi-webhook-webhook-service",
      webhookConfigurationName: "azure-wi-webhook-mutating-webhook-configuration",
    });
  });

  test("flags replace the defaults", () => {
    const built = config(
      {
        audience: "api://custom",
        webhookCertDir: "/tmp/certs",
        disableCertRotation: true,
        tlsMinVersion: "1.2",
        healthAddr: "127.0.0.1:0",
        metricsAddr: "[::1]:9000",
        metricsBackend: "Prometheus",
        logLevel: "debug",
        port: "8443",
        bindAddress: "127.0.0.1",
        certSecretName: "wikit-webhook-server-cert",
        serviceName: "wikit-webhook",
        webhookConfigurationName: "wikit-webhook",
      },
      { ...ENV, POD_NAMESPACE: "wikit-system", PROXY_IMAGE: "proxy:1", PROXY_INIT_IMAGE: "init:1" },
    );
    assert.equal(built.mutation.audience, "api://custom");
    assert.equal(built.mutation.proxyImage, "proxy:1");
    assert.equal(built.mutation.proxyInitImage, "init:1");
    assert.equal(built.mutation.logLevel, "debug");
    assert.equal(built.certDir, "/tmp/certs");
    assert.equal(built.disableCertRotation, true);
    assert.equal(built.tlsMinVersion, "TLSv1.2");
    assert.deepEqual(built.healthAddress, { host: "127.0.0.1", port: 0 });
    assert.deepEqual(built.metricsAddress, { host: "::1", port: 9000 });
    assert.equal(built.loggerLevel, "debug");
    assert.equal(built.port, 8443);
    assert.equal(built.bindAddress, "127.0.0.1");
    assert.equal(built.namespace, "wikit-system");
    assert.equal(built.certSecretName, "wikit-webhook-server-cert");
    assert.equal(built.serviceName, "wikit-webhook");
    assert.equal(built.webhookConfigurationName, "wikit-webhook");
  });

  test("--bind-address takes an IP address; a host name is refused", () => {
    assert.equal(config({ bindAddress: "::1" }, ENV).bindAddress, "::1");
    assert.throws(
      () => config({ bindAddress: "localhost" }, ENV),
      /invalid --bind-address "localhost": must be an IP address/,
    );
  });

  test("an empty --audience means the default audience (left to the mutation)", () => {
    assert.equal(config({ audience: "" }).mutation.audience, undefined);
  });

  test("a listener address of 0 disables that listener", () => {
    const built = config({ healthAddr: "0", metricsAddr: "0" });
    assert.equal(built.healthAddress, undefined);
    assert.equal(built.metricsAddress, undefined);
  });
});

describe("tenant and cloud", () => {
  test("AZURE_TENANT_ID is required, with envconfig's text", () => {
    assert.equal(error({}, {}), "required key AZURE_TENANT_ID missing value");
  });

  test("AZURE_TENANT_ID set but empty is accepted, as envconfig only checks presence", () => {
    assert.equal(config({}, { AZURE_TENANT_ID: "" }).mutation.tenantId, "");
  });

  test("--tenant-id (wikit webhook mutate) wins over AZURE_TENANT_ID", () => {
    assert.equal(config({ tenantId: "flag-tenant" }).mutation.tenantId, "flag-tenant");
    assert.equal(config({ tenantId: "flag-tenant" }, {}).mutation.tenantId, "flag-tenant");
  });

  test("CONFIG_<NAME> wins over <NAME>, even when empty", () => {
    assert.equal(
      config({}, { AZURE_TENANT_ID: "plain", CONFIG_AZURE_TENANT_ID: "prefixed" }).mutation.tenantId,
      "prefixed",
    );
    assert.equal(config({}, { CONFIG_AZURE_TENANT_ID: "prefixed" }).mutation.tenantId, "prefixed");
    assert.equal(config({}, { AZURE_TENANT_ID: "plain", CONFIG_AZURE_TENANT_ID: "" }).mutation.tenantId, "");
    assert.equal(
      config(
        {},
        { ...ENV, AZURE_ENVIRONMENT: "AzurePublicCloud", CONFIG_AZURE_ENVIRONMENT: "AzureChinaCloud" },
      ).mutation.authorityHost,
      "https://login.chinacloudapi.cn/",
    );
  });

  const clouds: [string, string][] = [
    ["", "https://login.microsoftonline.com/"],
    ["AzurePublicCloud", "https://login.microsoftonline.com/"],
    ["azurepubliccloud", "https://login.microsoftonline.com/"],
    ["AzureUSGovernmentCloud", "https://login.microsoftonline.us/"],
    ["AzureChinaCloud", "https://login.chinacloudapi.cn/"],
    ["AzureGermanCloud", "https://login.microsoftonline.de/"],
  ];
  for (const [cloud, authority] of clouds) {
    test(`AZURE_ENVIRONMENT ${JSON.stringify(cloud)} → AZURE_AUTHORITY_HOST ${authority}`, () => {
      assert.equal(config({}, { ...ENV, AZURE_ENVIRONMENT: cloud }).mutation.authorityHost, authority);
    });
  }

  test("an unknown cloud fails start-up with the upper-cased name", () => {
    assert.equal(
      error({}, { ...ENV, AZURE_ENVIRONMENT: "MarsCloud" }),
      'failed to get AAD endpoint: autorest/azure: There is no cloud environment matching the name "MARSCLOUD"',
    );
  });

  test("AzureStackCloud reads its authority from AZURE_ENVIRONMENT_FILEPATH, adding the trailing slash", () => {
    const env = {
      ...ENV,
      AZURE_ENVIRONMENT: "AzureStackCloud",
      AZURE_ENVIRONMENT_FILEPATH: "/etc/stack.json",
    };
    const files: Record<string, string> = {
      "/etc/stack.json": JSON.stringify({
        name: "AzureStackCloud",
        activeDirectoryEndpoint: "https://login.stack.example",
      }),
    };
    const readFile = (path: string) => files[path] ?? assert.fail(`unexpected read of ${path}`);
    assert.equal(config({}, env, readFile).mutation.authorityHost, "https://login.stack.example/");
  });

  test("--authority-host or WIKIT_AUTHORITY_HOST replaces the cloud's authority host; the flag wins", () => {
    const env = { ...ENV, AZURE_ENVIRONMENT: "AzureChinaCloud" };
    assert.equal(
      config({ authorityHost: "https://wikit.example.test" }, env).mutation.authorityHost,
      "https://wikit.example.test/",
    );
    assert.equal(
      config({}, { ...env, WIKIT_AUTHORITY_HOST: "https://WIKIT.example.test:8443/" }).mutation.authorityHost,
      "https://wikit.example.test:8443/",
    );
    assert.equal(
      config(
        { authorityHost: "https://flag.example.test/" },
        { ...env, WIKIT_AUTHORITY_HOST: "https://env.example.test/" },
      ).mutation.authorityHost,
      "https://flag.example.test/",
    );
    assert.equal(
      config({}, { ...env, CONFIG_WIKIT_AUTHORITY_HOST: "https://prefixed.example.test/" }).mutation
        .authorityHost,
      "https://prefixed.example.test/",
    );
  });

  test("an empty authority host keeps the cloud's, as upstream injects it", () => {
    assert.equal(
      config({}, { ...ENV, WIKIT_AUTHORITY_HOST: "" }).mutation.authorityHost,
      "https://login.microsoftonline.com/",
    );
    assert.equal(config({ authorityHost: " " }).mutation.authorityHost, "https://login.microsoftonline.com/");
  });

  test("an AzureStackCloud needs no definition file when the authority host is given", () => {
    const env = { ...ENV, AZURE_ENVIRONMENT: "AzureStackCloud", WIKIT_AUTHORITY_HOST: "https://wikit.test/" };
    assert.equal(config({}, env).mutation.authorityHost, "https://wikit.test/");
  });

  const badAuthorities: [string, RegExp][] = [
    ["wikit.example.test", /not a URL/],
    ["http://wikit.example.test/", /https only/],
    ["https://user:pass@wikit.example.test/", /credentials/],
    ["https://wikit.example.test/tenant/", /only a scheme, a host and a port/],
    ["https://wikit.example.test/?x=1", /only a scheme, a host and a port/],
  ];
  for (const [given, reason] of badAuthorities) {
    test(`--authority-host ${given} is refused, naming the flag and the fix`, () => {
      const message = error({ authorityHost: given });
      assert.match(message, new RegExp(`^invalid --authority-host "${given.replaceAll(/[.?/]/g, "\\$&")}"`));
      assert.match(message, reason);
      assert.match(message, /e\.g\. https:\/\/wikit\.example\.test\/$/);
    });
  }

  test("AzureStackCloud without a readable definition says what is missing", () => {
    const env = { ...ENV, AZURE_ENVIRONMENT: "AzureStackCloud" };
    assert.match(
      error({}, env),
      /^failed to get AAD endpoint: AzureStackCloud needs AZURE_ENVIRONMENT_FILEPATH/,
    );
    const withPath = { ...env, AZURE_ENVIRONMENT_FILEPATH: "/nope.json" };
    const missing = () => {
      throw new Error("ENOENT: no such file or directory");
    };
    assert.match(error({}, withPath, missing), /cannot read the cloud definition \/nope.json: ENOENT/);
    assert.match(
      error({}, withPath, () => "{}"),
      /has no https activeDirectoryEndpoint/,
    );
  });
});

describe("server flags", () => {
  for (const [version, node] of [
    ["1.0", "TLSv1"],
    ["1.1", "TLSv1.1"],
    ["1.2", "TLSv1.2"],
    ["1.3", "TLSv1.3"],
  ] as const) {
    test(`--tls-min-version ${version} → ${node}`, () => {
      assert.equal(config({ tlsMinVersion: version }).tlsMinVersion, node);
    });
  }

  for (const version of ["1.4", "TLSv1.2", "", "1"]) {
    test(`--tls-min-version ${JSON.stringify(version)} is rejected with upstream's text`, () => {
      assert.equal(
        error({ tlsMinVersion: version }),
        "invalid TLS version. Must be one of: 1.0, 1.1, 1.2, 1.3",
      );
    });
  }

  test("--metrics-backend is case-insensitive prometheus; anything else is named in the error", () => {
    assert.equal(config({ metricsBackend: "PROMETHEUS" }).metricsBackend, "prometheus");
    assert.equal(error({ metricsBackend: "opentelemetry" }), "unsupported metrics backend: opentelemetry");
  });

  for (const [level, logger] of [
    ["", "info"],
    ["info", "info"],
    ["debug", "debug"],
    ["trace", "trace"],
    ["all", "trace"],
  ] as const) {
    test(`--log-level ${JSON.stringify(level)} logs at ${logger} and is handed to the proxy as given`, () => {
      const built = config({ logLevel: level });
      assert.equal(built.loggerLevel, logger);
      assert.equal(built.mutation.logLevel, level);
    });
  }

  for (const level of ["warning", "INFO", "verbose"]) {
    test(`--log-level ${level} is rejected`, () => {
      assert.match(error({ logLevel: level }), new RegExp(`^invalid --log-level set: ${level}`));
    });
  }

  const addresses: [string, { host: string; port: number } | undefined][] = [
    [":9440", { host: "", port: 9440 }],
    ["0.0.0.0:1", { host: "0.0.0.0", port: 1 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    ["[::]:9440", { host: "::", port: 9440 }],
    ["0", undefined],
  ];
  for (const [text, expected] of addresses) {
    test(`listen address ${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(listenAddress("--health-addr", text), expected);
    });
  }

  for (const text of ["9440", "::1:9440", ":", ":99999", "host:", "[::1]", ":-1"]) {
    test(`listen address ${JSON.stringify(text)} is rejected with the flag's name`, () => {
      assert.match(error({ healthAddr: text }), /^invalid --health-addr /);
      assert.match(error({ metricsAddr: text }), /^invalid --metrics-addr /);
    });
  }

  test("--port must be a port number", () => {
    assert.equal(config({ port: "0" }).port, 0);
    assert.match(
      error({ port: "https" }),
      /^invalid --port port "https": must be an integer from 0 to 65535$/,
    );
    assert.match(error({ port: "70000" }), /^invalid --port port "70000"/);
  });

  test("--shutdown-delay-seconds is whole seconds from 0 to 600", () => {
    assert.equal(config({ shutdownDelaySeconds: "5" }).shutdownDelayMs, 5000);
    assert.equal(config({ shutdownDelaySeconds: "0" }).shutdownDelayMs, 0);
    assert.equal(config({ shutdownDelaySeconds: "600" }).shutdownDelayMs, 600_000);
    for (const value of ["-1", "1.5", "5s", "", "601"]) {
      assert.equal(
        error({ shutdownDelaySeconds: value }),
        `invalid --shutdown-delay-seconds "${value}": must be a whole number of seconds from 0 to 600`,
      );
    }
  });

  test("the rotator's object names must be valid object names", () => {
    assert.match(error({ certSecretName: "Bad_Name" }), /^invalid --cert-secret-name "Bad_Name"/);
    assert.match(error({ serviceName: "-x" }), /^invalid --service-name "-x"/);
    assert.match(error({ webhookConfigurationName: "a/b" }), /^invalid --webhook-configuration-name "a\/b"/);
  });
});

describe("custom token endpoint (§14.3)", () => {
  const SUFFIX = "identity-binding";
  const AUDIENCE = "api://AKSIdentityBinding";
  const flags = { customTokenEndpointAnnotationSuffix: SUFFIX, customTokenEndpointAudience: AUDIENCE };

  test("suffix and audience together enable it, with the AZURE_KUBERNETES_* variables", () => {
    const built = config(flags, {
      ...ENV,
      AZURE_KUBERNETES_TOKEN_PROXY: "https://10.0.0.1",
      AZURE_KUBERNETES_SNI_NAME: "sni.example",
      AZURE_KUBERNETES_CA_CONFIGMAP_NAME: "ca",
    });
    assert.deepEqual(built.mutation.customTokenEndpoint, {
      annotationSuffix: SUFFIX,
      audience: AUDIENCE,
      tokenProxy: "https://10.0.0.1",
      sniName: "sni.example",
      caConfigMapName: "ca",
    });
  });

  test("a ClusterTrustBundle signer with a JSON label selector is decoded", () => {
    const built = config(flags, {
      ...ENV,
      AZURE_KUBERNETES_CA_CTB_SIGNER_NAME: "wikit.dev/ca",
      AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR:
        '{"matchLabels":{"a":"b"},"matchExpressions":[{"key":"c","operator":"In","values":["d"]}]}',
    });
    assert.deepEqual(built.mutation.customTokenEndpoint?.caClusterTrustBundleLabelSelector, {
      matchLabels: { a: "b" },
      matchExpressions: [{ key: "c", operator: "In", values: ["d"] }],
    });
  });

  test("neither flag: the feature is off", () => {
    assert.equal(config().mutation.customTokenEndpoint, undefined);
  });

  const errors: [string, WebhookFlags, Environment, string | RegExp][] = [
    [
      "audience without suffix",
      { customTokenEndpointAudience: AUDIENCE },
      ENV,
      "custom token endpoint annotation suffix cannot be empty when audience is set",
    ],
    [
      "suffix without audience",
      { customTokenEndpointAnnotationSuffix: SUFFIX },
      ENV,
      "custom token endpoint audience cannot be empty when annotation suffix is set",
    ],
    [
      "the default audience, in any case",
      {
        customTokenEndpointAnnotationSuffix: SUFFIX,
        customTokenEndpointAudience: "API://azureadtokenexchange",
      },
      ENV,
      'custom token endpoint audience cannot be equal to default audience "api://AzureADTokenExchange"',
    ],
    [
      "a suffix that makes the key too long",
      { ...flags, customTokenEndpointAnnotationSuffix: "x".repeat(60) },
      ENV,
      `custom token endpoint annotation key "azure.workload.identity/use-${"x".repeat(60)}" is not valid: name part must be no more than 63 characters`,
    ],
    [
      "a suffix ending in a dash",
      { ...flags, customTokenEndpointAnnotationSuffix: "binding-" },
      ENV,
      /^custom token endpoint annotation key "azure.workload.identity\/use-binding-" is not valid: name part must consist of alphanumeric characters/,
    ],
    [
      "a suffix with a slash",
      { ...flags, customTokenEndpointAnnotationSuffix: "a/b" },
      ENV,
      /^custom token endpoint annotation key "azure.workload.identity\/use-a\/b" is not valid: a qualified name must be/,
    ],
    [
      "two CA sources",
      flags,
      { ...ENV, AZURE_KUBERNETES_CA_DATA: "pem", AZURE_KUBERNETES_CA_CONFIGMAP_NAME: "ca" },
      "only one of AZURE_KUBERNETES_CA_DATA, AZURE_KUBERNETES_CA_CONFIGMAP_NAME or AZURE_KUBERNETES_CA_CTB_SIGNER_NAME can be set",
    ],
    [
      "a label selector without a signer",
      flags,
      { ...ENV, AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR: "{}" },
      "AZURE_KUBERNETES_CA_CTB_SIGNER_NAME needs to be set when AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR is set",
    ],
    [
      "a label selector that is not JSON",
      flags,
      { ...ENV, AZURE_KUBERNETES_CA_CTB_SIGNER_NAME: "s", AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR: "{a" },
      /^failed to decode LabelSelector: /,
    ],
    [
      "a label selector with In and no values",
      flags,
      {
        ...ENV,
        AZURE_KUBERNETES_CA_CTB_SIGNER_NAME: "s",
        AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR: '{"matchExpressions":[{"key":"a","operator":"In"}]}',
      },
      /^failed to decode LabelSelector: .*values set can't be empty/,
    ],
    [
      "a label selector with an unknown operator",
      flags,
      {
        ...ENV,
        AZURE_KUBERNETES_CA_CTB_SIGNER_NAME: "s",
        AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR: '{"matchExpressions":[{"key":"a","operator":"Near"}]}',
      },
      /^failed to decode LabelSelector: .*operator must be one of/,
    ],
  ];
  for (const [what, flagValues, env, expected] of errors) {
    test(`${what} fails start-up`, () => {
      const message = error(flagValues, env);
      if (typeof expected === "string") assert.equal(message, expected);
      else assert.match(message, expected);
    });
  }

  test("the annotation key is validated lower-cased but kept as configured", () => {
    const built = config({ ...flags, customTokenEndpointAnnotationSuffix: "Identity-Binding" });
    assert.equal(built.mutation.customTokenEndpoint?.annotationSuffix, "Identity-Binding");
  });

  test("qualified names: prefix and name rules", () => {
    assert.deepEqual(qualifiedNameErrors("azure.workload.identity/use-identity-binding"), []);
    assert.deepEqual(qualifiedNameErrors("/name"), ["prefix part must be non-empty"]);
    assert.deepEqual(qualifiedNameErrors("Upper.Case/name"), [
      "prefix part must be a lowercase DNS subdomain of at most 253 characters",
    ]);
    assert.deepEqual(qualifiedNameErrors("prefix/"), ["name part must be non-empty"]);
  });
});

describe("emulation (wikit)", () => {
  test("an address alone enables it for login.microsoftonline.com, with the CA ConfigMap required", () => {
    assert.match(
      error({ emulationAddress: "10.0.0.5" }),
      /^--emulation-ca-configmap is required with --emulation-address/,
    );
    assert.deepEqual(
      config({ emulationAddress: "10.0.0.5", emulationCaConfigmap: "wikit-ca" }).mutation.emulation,
      {
        address: "10.0.0.5",
        hostNames: ["login.microsoftonline.com"],
        caConfigMap: "wikit-ca",
      },
    );
  });

  test("host names are split on commas, trimmed, lower-cased and de-duplicated", () => {
    const built = config({
      emulationAddress: "fd00::5",
      emulationHostNames: " login.microsoftonline.com, MyVault.vault.azure.net,,login.microsoftonline.com ",
      emulationCaConfigmap: "wikit-ca",
    });
    assert.deepEqual(built.mutation.emulation?.hostNames, [
      "login.microsoftonline.com",
      "myvault.vault.azure.net",
    ]);
    assert.equal(built.mutation.emulation?.address, "fd00::5");
  });

  test("the environment configures it too, and flags win over it", () => {
    const env = {
      ...ENV,
      WIKIT_EMULATION_ADDRESS: "10.0.0.5",
      WIKIT_EMULATION_HOST_NAMES: "a.vault.azure.net",
      WIKIT_EMULATION_CA_CONFIGMAP: "ca-from-env",
    };
    assert.deepEqual(config({}, env).mutation.emulation, {
      address: "10.0.0.5",
      hostNames: ["a.vault.azure.net"],
      caConfigMap: "ca-from-env",
    });
    assert.equal(config({ emulationAddress: "10.9.9.9" }, env).mutation.emulation?.address, "10.9.9.9");
  });

  const errors: [string, WebhookFlags, RegExp][] = [
    [
      "a host name instead of an IP",
      { emulationAddress: "wikit.example", emulationCaConfigmap: "c" },
      /must be an IP address/,
    ],
    [
      "an IP with a port",
      { emulationAddress: "10.0.0.5:443", emulationCaConfigmap: "c" },
      /must be an IP address/,
    ],
    [
      "a wildcard host name",
      { emulationAddress: "10.0.0.5", emulationHostNames: "*.vault.azure.net", emulationCaConfigmap: "c" },
      /no wildcards; list each vault host name/,
    ],
    [
      "an invalid host name",
      { emulationAddress: "10.0.0.5", emulationHostNames: "bad_name.example", emulationCaConfigmap: "c" },
      /invalid --emulation-host-names entry "bad_name.example"/,
    ],
    [
      "an invalid ConfigMap name",
      { emulationAddress: "10.0.0.5", emulationCaConfigmap: "Bad/Name" },
      /invalid --emulation-ca-configmap/,
    ],
    ["settings without an address", { emulationCaConfigmap: "c" }, /need --emulation-address/],
  ];
  for (const [what, flags, expected] of errors) {
    test(`${what} is rejected`, () => {
      assert.match(error(flags), expected);
    });
  }

  test("without an address it is off", () => {
    assert.equal(config().mutation.emulation, undefined);
  });
});

describe("error order", () => {
  test("flag errors are reported before environment errors, and only the first one", () => {
    assert.match(error({ logLevel: "loud", tlsMinVersion: "9" }, {}), /^invalid --log-level set: loud/);
    assert.equal(
      error({ tlsMinVersion: "9" }, {}),
      "invalid TLS version. Must be one of: 1.0, 1.1, 1.2, 1.3",
    );
  });
});
