"""The client address django-axes keys login throttling on, behind trusted proxies.

`TRUSTED_PROXY_COUNT` is how many proxies the operator runs in front of the app, each
appending the address it received the connection from to `X-Forwarded-For` (nginx's
`$proxy_add_x_forwarded_for`, every cloud load balancer). The app's own peer
(`REMOTE_ADDR`) is the last of them, so the client is the entry the outermost proxy
appended: the N-th from the right. Entries to the left of it came from the client and
are never trusted.

django-axes resolves the address through django-ipware, configured by the settings
returned here. In ipware's terms the trusted proxies *listed in* the header are N - 1
(the last proxy is `REMOTE_ADDR`), and with strict checking off ipware takes the
(N - 1 + 1)-th entry from the right whatever the client put before it. A request whose
header has fewer entries than that (it did not come through every proxy) is keyed on
`REMOTE_ADDR`. Imported by settings.py, so it imports nothing from Django.
"""

from typing import Any


def axes_ip_settings(trusted_proxy_count: int) -> dict[str, Any]:
    """The AXES_IPWARE_* and IPWARE_* settings for `trusted_proxy_count` proxies."""
    if trusted_proxy_count < 0:
        raise ValueError("TRUSTED_PROXY_COUNT must be 0 or more")
    if trusted_proxy_count == 0:
        return {
            "AXES_IPWARE_META_PRECEDENCE_ORDER": ("REMOTE_ADDR",),
            "AXES_IPWARE_PROXY_COUNT": None,
            "AXES_IPWARE_PROXY_ORDER": "left-most",
            "IPWARE_STRICT": False,
        }
    return {
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
        "AXES_IPWARE_PROXY_COUNT": trusted_proxy_count - 1,
        "AXES_IPWARE_PROXY_ORDER": "left-most",
        # Not strict: a chain longer than the proxies (the client sent its own
        # X-Forwarded-For) still yields the entry the outermost proxy appended, instead
        # of being discarded in favour of the proxy's own address.
        "IPWARE_STRICT": False,
    }
