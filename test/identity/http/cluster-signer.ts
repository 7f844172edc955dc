// A cluster issuer for token-endpoint tests that craft their own assertions: one RS256 key under a fixed kid,
// compact JWS signed over exactly the header and payload texts given (so that tests can write what no JWT
// library would), and the issuer keys the token service fetches, recording each fetch.

import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { AadstsError } from "../../../src/identity/exchange/aadsts-errors.ts";
import type { IssuerKeySource } from "../../../src/identity/exchange/issuer-metadata.ts";
import { CLUSTER_ISSUER } from "./sts-app.ts";

export const CLUSTER_KID = "cluster-key";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

/** A compact JWS over exactly these header and payload texts, signed RS256 with the cluster's key by default. */
export function signedToken(headerJson: string, payloadJson: string, key: KeyObject = privateKey): string {
  const input = `${Buffer.from(headerJson).toString("base64url")}.${Buffer.from(payloadJson).toString("base64url")}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

/** The cluster's public key for its issuer and kid, and AADSTS7000272 for anything else; `fetches` lists the issuers asked. */
export function clusterIssuerKeys(): IssuerKeySource & { fetches: string[] } {
  const fetches: string[] = [];
  return {
    fetches,
    async getKey(issuer, { kid }) {
      fetches.push(issuer);
      if (issuer !== CLUSTER_ISSUER || kid !== CLUSTER_KID) {
        throw new AadstsError(7000272, { kid: String(kid), issuer });
      }
      return publicKey;
    },
  };
}
