// Builds the noise certificate chain the server presents in its serverHello:
// test root key → intermediate (issuerSerial must equal WA_CERT_DETAILS.SERIAL) → leaf whose
// key is the server's static noise key, mirroring WhatsApp's real chain.
import { Curve, proto, WA_CERT_DETAILS } from 'baileys'
import type { KeyPair } from './types.ts'
import { TEST_ROOT_KEY } from './test-root-key.ts'

const INTERMEDIATE_SERIAL = 1
const LEAF_SERIAL = 2
const ONE_YEAR_S = 365 * 24 * 3600

export function buildCertChain(serverStaticKey: KeyPair): Uint8Array {
  const now = Math.floor(Date.now() / 1000)
  const intermediateKey = Curve.generateKeyPair()
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: WA_CERT_DETAILS.SERIAL,
    key: intermediateKey.public,
    notBefore: now - ONE_YEAR_S,
    notAfter: now + ONE_YEAR_S,
  }).finish()
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: LEAF_SERIAL,
    issuerSerial: INTERMEDIATE_SERIAL,
    key: serverStaticKey.public,
    notBefore: now - ONE_YEAR_S,
    notAfter: now + ONE_YEAR_S,
  }).finish()
  return proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(TEST_ROOT_KEY.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediateKey.private, leafDetails) },
  }).finish()
}
