"""The in-repo clients on a default server (session tokens required): each keeps the
token its open returned and sends it when it continues the session, and a client
without the token is refused."""

from __future__ import annotations

import grpc
import pytest

from seqserve.client.kinds_client import SeqServeClient
from seqserve.client.session_client import main as client_main


def test_the_typed_client_reopens_its_own_session_and_another_is_refused(
    streaming_server,
) -> None:
    with SeqServeClient(streaming_server.address) as mine:
        first = mine.predict([[330.0, 331.0]], model="co2", session_id="typed-1", keep=True)
        assert first.session_token and first.position == 0
        again = mine.predict([[332.0]], model="co2", session_id="typed-1", keep=True)
        assert again.position == 2  # continued where the first stream left it
        assert again.session_token == first.session_token
        events = list(mine.predict_stream(iter([[333.0]]), model="co2", session_id="typed-1",
                                          keep=True))
        assert events[0] == "typed-1" and len(events) == 2
    with SeqServeClient(streaming_server.address) as other:
        with pytest.raises(grpc.RpcError) as refused:
            other.predict([[1.0]], model="co2", session_id="typed-1")
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        handed = other.predict([[334.0]], model="co2", session_id="typed-1",
                               session_token=first.session_token)
        assert handed.position == 4


def test_the_session_client_prints_the_token_of_a_kept_session(streaming_server, capsys):
    address = ["--address", streaming_server.address, "--model", "co2",
               "--session-id", "cli-kept"]
    assert client_main([*address, "--values", "315.7 317.5", "--keep"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = next(line.split()[2] for line in lines if line.startswith("session token "))
    assert client_main([*address, "--values", "317.6"]) == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    assert client_main([*address, "--values", "317.6", "--session-token", token]) == 0
    assert "at position 2" in capsys.readouterr().out
