/**
 * Certificates for the proxy's TLS mode: a CA faultline generates (or reuses) for TLS proxy
 * targets, the good server certificate it signs for the target's host name, and the bad ones
 * the `certificate` fault presents instead — so "our internal certificate expired" can be
 * rehearsed before it happens.
 *
 * | problem         | what the proxy presents                               | Node's client error            |
 * | --------------- | ----------------------------------------------------- | ------------------------------ |
 * | `expired`       | signed by the run's CA, notAfter yesterday            | CERT_HAS_EXPIRED               |
 * | `not-yet-valid` | signed by the run's CA, notBefore tomorrow            | CERT_NOT_YET_VALID             |
 * | `wrong-host`    | signed by the run's CA, for another name              | ERR_TLS_CERT_ALTNAME_INVALID   |
 * | `untrusted`     | for the right name, signed by a CA nobody trusts      | UNABLE_TO_VERIFY_LEAF_SIGNATURE|
 * | `self-signed`   | for the right name, signed by its own key             | DEPTH_ZERO_SELF_SIGNED_CERT    |
 *
 * Built with node-forge (no dependencies, pure JavaScript, runs on Node 20; @peculiar/x509
 * needs a process-wide reflect-metadata polyfill). RSA keys come from Node's native
 * `generateKeyPairSync` (forge's JavaScript key generation is slow); forge only builds and signs.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import forge from 'node-forge';

export type CertificateProblem =
  'expired' | 'not-yet-valid' | 'wrong-host' | 'untrusted' | 'self-signed';

/** A PEM certificate (chain) and its private key. */
export interface KeyAndCert {
  key: string;
  cert: string;
}

const DAY = 86_400_000;

function rsaKeys(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    privateKey: forge.pki.privateKeyFromPem(pem),
    publicKey: forge.pki.publicKeyFromPem(
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ),
    pem,
  };
}

function serial(): string {
  // Positive, 16 random bytes: unique per certificate, as RFC 5280 wants.
  return `01${randomBytes(15).toString('hex')}`;
}

interface Issue {
  subject: string;
  publicKey: forge.pki.rsa.PublicKey;
  issuer: { name: string; key: forge.pki.rsa.PrivateKey };
  notBefore: Date;
  notAfter: Date;
  ca?: boolean;
  altName?: string;
}

function issue(spec: Issue): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = spec.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject([
    { name: 'commonName', value: spec.subject },
    { name: 'organizationName', value: 'faultline' },
  ]);
  cert.setIssuer([
    { name: 'commonName', value: spec.issuer.name },
    { name: 'organizationName', value: 'faultline' },
  ]);
  const extensions: unknown[] = spec.ca
    ? [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
      ]
    : [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
      ];
  if (spec.altName)
    extensions.push({
      name: 'subjectAltName',
      altNames: [
        isIP(spec.altName) ? { type: 7, ip: spec.altName } : { type: 2, value: spec.altName },
      ],
    });
  cert.setExtensions(extensions as never[]);
  cert.sign(spec.issuer.key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A certificate authority: what signs the good certificate (and the expired ones). */
export interface CertificateAuthority extends KeyAndCert {
  /** The CA's common name (the issuer of what it signs). */
  name: string;
}

/** A new CA valid from yesterday for a year. */
export function createCa(name = 'faultline test CA'): CertificateAuthority {
  const keys = rsaKeys();
  const now = Date.now();
  const cert = issue({
    subject: name,
    publicKey: keys.publicKey,
    issuer: { name, key: keys.privateKey },
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    ca: true,
  });
  return { key: keys.pem, cert, name };
}

/**
 * The CA at `caFile` (its key at `caFile.key`), reused when both are there and it is valid for
 * at least another day — so a service started before the run, trusting that file, keeps
 * trusting the proxy — otherwise a new one written there (key readable by the owner only).
 */
export async function loadOrCreateCa(caFile: string): Promise<CertificateAuthority> {
  try {
    const [cert, key] = await Promise.all([
      readFile(caFile, 'utf8'),
      readFile(`${caFile}.key`, 'utf8'),
    ]);
    const parsed = forge.pki.certificateFromPem(cert);
    const name = String((parsed.subject.getField('CN') as { value?: unknown } | null)?.value ?? '');
    forge.pki.privateKeyFromPem(key);
    if (
      name &&
      parsed.validity.notAfter.getTime() > Date.now() + DAY &&
      parsed.validity.notBefore.getTime() < Date.now()
    )
      return { key, cert, name };
  } catch {
    // absent or unreadable: make a new one
  }
  const ca = createCa();
  await mkdir(dirname(caFile), { recursive: true });
  await writeFile(`${caFile}.key`, ca.key, { mode: 0o600 });
  await chmod(`${caFile}.key`, 0o600);
  await writeFile(caFile, ca.cert);
  return ca;
}

/** The good certificate and every bad one for `hostname`, made once per proxy. */
export interface CertificateSet {
  good: KeyAndCert;
  bad: Record<CertificateProblem, KeyAndCert>;
}

/** Issues the good server certificate for `hostname` and the five bad ones. */
export function certificateSet(ca: CertificateAuthority, hostname: string): CertificateSet {
  const caKey = { name: ca.name, key: forge.pki.privateKeyFromPem(ca.key) };
  const leaf = rsaKeys();
  const rogue = rsaKeys();
  const now = Date.now();
  const valid = { notBefore: new Date(now - DAY), notAfter: new Date(now + 90 * DAY) };
  const server = (over: Partial<Issue>): KeyAndCert => ({
    key: leaf.pem,
    cert: issue({
      subject: hostname,
      publicKey: leaf.publicKey,
      issuer: caKey,
      altName: hostname,
      ...valid,
      ...over,
    }),
  });
  return {
    good: server({}),
    bad: {
      expired: server({ notBefore: new Date(now - 60 * DAY), notAfter: new Date(now - DAY) }),
      'not-yet-valid': server({
        notBefore: new Date(now + DAY),
        notAfter: new Date(now + 60 * DAY),
      }),
      'wrong-host': server({
        subject: 'wrong-host.faultline.invalid',
        altName: 'wrong-host.faultline.invalid',
      }),
      untrusted: server({ issuer: { name: 'faultline untrusted CA', key: rogue.privateKey } }),
      'self-signed': server({ issuer: { name: hostname, key: leaf.privateKey } }),
    },
  };
}
