import { ERROR_CODES } from "./constants.ts";

export interface VaultErrorBody {
  error: { code: string; message: string; innererror?: { code: string } };
}

/** A failed vault request in Key Vault's vocabulary: HTTP status, `code`, message, optional inner code. */
export class VaultError extends Error {
  readonly status: number;
  readonly code: string;
  readonly innerCode: string | undefined;
  /** For 401s: the `WWW-Authenticate` challenge telling the client where to get a token. */
  readonly challenge: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { innerCode?: string; challenge?: string } = {},
  ) {
    super(message);
    this.name = "VaultError";
    this.status = status;
    this.code = code;
    this.innerCode = options.innerCode;
    this.challenge = options.challenge;
  }

  toBody(): VaultErrorBody {
    const error: VaultErrorBody["error"] = { code: this.code, message: this.message };
    if (this.innerCode) error.innererror = { code: this.innerCode };
    return { error };
  }
}

export const badParameter = (message: string) => new VaultError(400, ERROR_CODES.badParameter, message);
