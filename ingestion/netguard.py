"""Which network addresses and local paths a download may reach.

Upstream messages name the source, so a hostile or careless message could aim
the worker at the cloud metadata service, an internal admin page or
``/etc/passwd``.  Rules:

* only ``http``/``https``;
* a host name is resolved once and every address it resolves to must be
  public: loopback, private (RFC 1918, ULA), link-local (including the
  169.254.169.254 metadata address), multicast, reserved and unspecified
  addresses are refused — unless the host (by name, or its address by
  IP/CIDR) is listed in ``DOWNLOAD_ALLOWED_HOSTS``;
* the connection then goes to the address that was checked (no second DNS
  answer can swap it), and every redirect hop is checked the same way;
* local paths must lie, after resolving symlinks, under an allowed root
  (``DOWNLOAD_ALLOWED_ROOTS``, default: ``UPLOADS_DIR`` only; ``*`` allows any,
  as the local ``ingestion ingest`` command does).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Sequence

from ingestion.errors import DownloadFailed, SourceRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be fetched from, or ``None`` for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return blocked_reason(ip.ipv4_mapped)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "a reserved address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    return None


class AddressGuard:
    """Checks hosts against the rules above; ``allowed`` holds host names, IPs and CIDR networks."""

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        self.allowed_names = set()
        self.allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowed:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self.allowed_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allowed_names.add(entry.rstrip("."))

    def ip_allowed(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self.allowed_networks)

    def check_ip(self, host: str, ip: IPAddress) -> None:
        """Raise :class:`SourceRefused` unless ``ip`` (an address of ``host``) may be fetched from."""
        if host.lower().rstrip(".") in self.allowed_names or self.ip_allowed(ip):
            return
        reason = blocked_reason(ip)
        if reason:
            raise SourceRefused(
                f"refusing to download from {host}: it resolves to {ip}, {reason} "
                "(list it in DOWNLOAD_ALLOWED_HOSTS if it is a trusted source)"
            )

    def resolve(self, host: str, port: int) -> str:
        """The checked address to connect to for ``host``; every address it resolves to must pass."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            self.check_ip(host, literal)
            return str(literal)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DownloadFailed(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            self.check_ip(host, ip)
            addresses.append(ip)
        if not addresses:
            raise DownloadFailed(f"{host} has no address")
        return str(addresses[0])


def check_local_path(path: str, roots: Sequence[str] | None) -> Path:
    """The resolved ``path`` if it lies under one of ``roots`` (``None``: any path); else :class:`SourceRefused`."""
    resolved = Path(os.path.realpath(path))
    if roots is None:
        return resolved
    for root in roots:
        base = Path(os.path.realpath(root))
        if resolved == base or base in resolved.parents:
            return resolved
    raise SourceRefused(
        f"refusing to read local path {path}: it is not under an allowed folder "
        "(DOWNLOAD_ALLOWED_ROOTS; the default is UPLOADS_DIR)"
    )
