// `wikit webhook serve` put together: read the API server's version once (it decides where the proxy sidecar
// goes), start the ServiceAccount cache, open the health and metrics listeners, make the serving certificate
// valid through the certificate rotator (unless rotation is disabled and certificates are brought in), open
// the admission listener, and shut everything down gracefully on SIGTERM or SIGINT (after the configured
// shutdown delay, during which admissions are still answered but the webhook reports not ready).

import { type KubeConfig, VersionApi } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type AdmissionServer, startAdmissionServer } from "./admission-server.ts";
import { CertRotator } from "./cert-rotation.ts";
import { kubeErrorMessage, ServiceAccountCache } from "./service-account-cache.ts";
import type { WebhookConfig } from "./webhook-config.ts";

export interface ServeWebhookOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Signals that stop the webhook gracefully. Default SIGTERM and SIGINT; empty to handle none. */
  signals?: readonly NodeJS.Signals[];
}

export interface RunningWebhook {
  server: AdmissionServer;
  /** Settles once the webhook has shut down (after a signal or close()). */
  stopped: Promise<void>;
  close(): Promise<void>;
}

export async function serveWebhook(
  config: WebhookConfig,
  options: ServeWebhookOptions,
): Promise<RunningWebhook> {
  const { kubeConfig, logger } = options;
  const kubernetesVersion = await apiServerVersion(kubeConfig);
  logger.info({ kubernetesVersion }, "API server version read");

  const serviceAccounts = new ServiceAccountCache({
    kubeConfig,
    logger: logger.child({ component: "service-accounts" }),
  });
  serviceAccounts.start();
  let server: AdmissionServer;
  try {
    server = await startAdmissionServer({
      mutation: { ...config.mutation, kubernetesVersion },
      serviceAccounts,
      certDir: config.certDir,
      tlsMinVersion: config.tlsMinVersion,
      webhookAddress: { host: config.bindAddress, port: config.port },
      healthAddress: config.healthAddress,
      metricsAddress: config.metricsAddress,
      logger,
    });
  } catch (error) {
    await serviceAccounts.stop();
    throw new Error(`cannot open the webhook's listeners: ${(error as Error).message}`, { cause: error });
  }

  let rotator: CertRotator | undefined;
  const closeAll = async () => {
    await rotator?.stop();
    await server.close();
    await serviceAccounts.stop();
  };
  try {
    if (!config.disableCertRotation) {
      const certRotator = new CertRotator({
        kubeConfig,
        namespace: config.namespace,
        secretName: config.certSecretName,
        serviceName: config.serviceName,
        webhookConfigurationName: config.webhookConfigurationName,
        certDir: config.certDir,
        logger: logger.child({ component: "cert-rotation" }),
      });
      await certRotator.ensure();
      certRotator.start();
      rotator = certRotator;
      await server.reloadCertificates();
    } else {
      logger.info(
        { certDir: config.certDir },
        "certificate rotation disabled; waiting for tls.crt and tls.key",
      );
    }
  } catch (error) {
    await closeAll();
    throw new Error(`cannot set up the webhook's serving certificate: ${kubeErrorMessage(error)}`, {
      cause: error,
    });
  }

  let closing: Promise<void> | undefined;
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "shutting down");
    void close();
  };
  const close = () => {
    closing ??= (async () => {
      // A second signal during the delay takes the default action: the process ends at once.
      for (const signal of signals) process.off(signal, onSignal);
      if (config.shutdownDelayMs > 0) {
        // Endpoints and the API server's connections take a moment to let go of this pod: until they have,
        // requests still arrive, and with failurePolicy Fail a refused one fails a pod creation.
        server.announceShutdown();
        logger.info(
          { delaySeconds: config.shutdownDelayMs / 1000 },
          "not ready; still answering until the delay ends",
        );
        await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      }
      await closeAll();
      logger.info("webhook stopped");
      markStopped();
    })();
    return closing;
  };
  for (const signal of signals) process.once(signal, onSignal);
  server.webhookListening.catch(async (error: unknown) => {
    if (closing) return; // closed before the certificate came: nothing failed
    logger.error({ error: (error as Error).message }, "the admission listener failed");
    await close();
  });
  return {
    server,
    stopped,
    close,
  };
}

/** The API server's gitVersion (e.g. `v1.32.1`), read once at start-up as upstream does. */
async function apiServerVersion(kubeConfig: KubeConfig): Promise<string> {
  try {
    const info = await kubeConfig.makeApiClient(VersionApi).getCode();
    return info.gitVersion;
  } catch (error) {
    throw new Error(`cannot read the API server's version: ${kubeErrorMessage(error)}`, { cause: error });
  }
}
