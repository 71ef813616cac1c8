// Per-run certificate authority: one CA and one leaf for Slack's hosts, ECDSA P-256 (fast to make;
// Go's crypto/tls and Node accept it). Keys stay in memory; only the CA certificate goes to disk.
import { randomBytes, webcrypto } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/** Hosts the leaf certificate covers (and the proxy intercepts). */
export const SLACK_HOSTS = [
  "slack.com",
  "*.slack.com",
  "files.slack.com",
  "wss-primary.slack.com",
  "ca.slack-edge.com",
  "slack-edge.com",
  "*.slack-edge.com",
  "slack-imgs.com",
];

/** True when `host` is covered by the leaf (exact name or one-label wildcard). */
export function isSlackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return SLACK_HOSTS.some((pattern) => {
    if (!pattern.startsWith("*.")) return h === pattern;
    const suffix = pattern.slice(1);
    return h.endsWith(suffix) && !h.slice(0, -suffix.length).includes(".");
  });
}

export interface RunCertificates {
  caCertPem: string;
  leafCertPem: string;
  /** PKCS#8 PEM of the leaf key (memory only). */
  leafKeyPem: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

function serial(): string {
  // Positive: first byte below 0x80.
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  return b.toString("hex");
}

export async function createRunCertificates(): Promise<RunCertificates> {
  const crypto = webcrypto as unknown as Crypto;
  const notBefore = new Date(Date.now() - 24 * 3600_000);
  const notAfter = new Date(Date.now() + 30 * 24 * 3600_000);
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=bridge-harness run CA ${randomBytes(4).toString("hex")}, O=bridge-harness`,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const leafKeys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: "CN=slack.com",
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          SLACK_HOSTS.map((value) => ({ type: "dns" as const, value })),
          false,
        ),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
  const leafKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
  return {
    caCertPem: `${ca.toString("pem")}\n`,
    leafCertPem: `${leaf.toString("pem")}\n`,
    leafKeyPem,
  };
}

/** Writes ca.pem into `dir` and returns its path. */
export async function writeCaFile(dir: string, caCertPem: string): Promise<string> {
  const file = join(dir, "ca.pem");
  await writeFile(file, caCertPem, { mode: 0o644 });
  return file;
}
