"""Small direct clients for sandbox tests (tests may talk to the sandbox directly)."""

from __future__ import annotations

import http.client
import socket
import ssl

import dns.message
import dns.query
import dns.rdatatype


def dns_query(sb, name: str, rdtype: str = "A", server: str = "127.0.0.1", tcp: bool = False, timeout=2.0):
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, server, port=sb.dns_port, timeout=timeout)
    return dns.query.udp(query, server, port=sb.dns_port, timeout=timeout)


def answer_values(response, rdtype: str = "A") -> list[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return [rd.to_text() for rrset in response.answer if rrset.rdtype == wanted for rd in rrset]


class _HostHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a sandbox address while sending SNI for the host name."""

    def __init__(self, address: str, port: int, server_name: str, context: ssl.SSLContext, timeout: float):
        super().__init__(address, port, context=context, timeout=timeout)
        self._server_name = server_name
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._server_name)


def tls_context(sb, verify: bool = True) -> ssl.SSLContext:
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        return ctx
    return ssl.create_default_context(cafile=sb.ca_pem_path)


def fetch(
    sb,
    host: str,
    path: str = "/",
    scheme: str = "https",
    method: str = "GET",
    headers=None,
    body: bytes | None = None,
    verify: bool = True,
    timeout: float = 5.0,
):
    """Returns (status, headers as list of pairs, body bytes)."""
    address = sb.address_of(host)
    if scheme == "https":
        conn = _HostHTTPSConnection(address, sb.https_port, host, tls_context(sb, verify), timeout)
    else:
        conn = http.client.HTTPConnection(address, sb.http_port, timeout=timeout)
    all_headers = {"Host": host, **(headers or {})}
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def header(headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def header_all(headers, name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]
