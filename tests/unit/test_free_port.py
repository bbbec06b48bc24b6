"""Ports for servers started next come from below the kernel's ephemeral range, where no
outgoing connection can take them between the check and the bind, and never twice."""

import socket

from infra.temporal_server import _ephemeral_floor, free_port


def test_a_free_port_is_below_the_ephemeral_range_bindable_and_never_given_twice() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(1024 <= p < _ephemeral_floor() for p in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))  # nothing took it
