import type { RequestFilteringAgentOptions } from 'request-filtering-agent'

/** Cloud instance-metadata endpoints (EC2 IPv4 and IPv6, ECS task metadata): refused even locally. */
const METADATA_ADDRESSES = ['169.254.169.254', 'fd00:ec2::254', '169.254.170.2']

/**
 * Where deliveries may go. In AWS: `https://` to public unicast addresses only, checked by
 * request-filtering-agent on the address each connection actually resolves to (so a name that
 * points at 10.x, 127.x, 169.254.x, fc00::/7 or the like is refused, whatever it resolved to
 * when the link was created). On one machine (`AppDeps.local`): `http://` too, and private,
 * loopback and link-local addresses, so developers can receive on localhost; the metadata
 * endpoints stay refused. (Single addresses, not ranges: the library warns on every request when
 * a range of the other IP family is listed.)
 */
export function outboundPolicy(local: boolean): { protocols: readonly string[]; filter: RequestFilteringAgentOptions } {
  return local
    ? { protocols: ['https:', 'http:'], filter: { allowPrivateIPAddress: true, denyIPAddressList: METADATA_ADDRESSES } }
    : { protocols: ['https:'], filter: {} }
}
