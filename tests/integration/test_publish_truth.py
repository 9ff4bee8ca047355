"""Publishing tells the truth at the end: `herald pub` exits 0 only when
every message went to the broker connection, and says on stderr what was
lost otherwise; Publisher.close() (and leaving a `with` block) raises
HeraldError with the C error, UNSENT."""

import subprocess

import pytest

import herald
from conftest import CLI, PYTHON, ROOT, run, py_env

# Nothing listens on port 1: a broker that is not running.
NOWHERE = "tcp://127.0.0.1:1"
LINES = 100_000


def pub(*args, input=None):
    return run([CLI, "pub", *args], input=input, timeout=60)


def test_cli_without_a_broker_fails_with_the_reason():
    out = pub("-e", NOWHERE, "--linger", "200", "truth", '{"a":1}')
    assert out.returncode == 3, out
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert "1 message not sent" in lines[0]
    assert "never connected" in lines[0] and NOWHERE in lines[0]


def test_cli_many_lines_without_a_broker_fails():
    text = "".join(f'{{"n":{i}}}\n' for i in range(LINES))
    out = pub("-e", NOWHERE, "--linger", "200", "truth", input=text)
    assert out.returncode == 3, out.stderr[-2000:]
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr[-2000:]
    assert f"{LINES} messages not sent" in lines[0]


def test_cli_with_nothing_to_send_succeeds_without_a_broker():
    out = pub("-e", NOWHERE, "--linger", "200", "truth", input="\n  \n")
    assert out.returncode == 0, out
    assert out.stderr == ""


def test_cli_with_a_broker_sends_everything(broker):
    with herald.Subscriber(broker.egress, ["truth"], hwm=0) as sub:
        sub.sync(10)
        text = "".join(f'{{"n":{i}}}\n' for i in range(LINES))
        out = pub("-e", broker.ingress, "truth", input=text)
        assert out.returncode == 0, out.stderr
        assert out.stderr == ""
        for i in range(LINES):
            got = sub.recv(timeout=10)
            assert got == ("truth", {"n": i}), f"event {i}: {got}"
    stats = broker.stats()
    assert stats["messages_in"] == LINES and stats["messages_dropped"] == 0, stats


def test_cli_bad_line_still_exits_1(broker):
    out = pub("-e", broker.ingress, "truth", input='{"a":1}\n{"a":,}\n')
    assert out.returncode == 1
    assert "line 2" in out.stderr


def test_cli_help_documents_the_exit_status():
    out = pub("--help")
    assert out.returncode == 0
    assert "3 if messages were still queued when the linger time ran" in out.stdout


def test_close_raises_without_a_broker():
    p = herald.Publisher(NOWHERE, linger=0.2)
    p.publish("truth", {"a": 1})
    p.publish("truth", {"a": 2})
    with pytest.raises(herald.HeraldError) as err:
        p.close()
    assert err.value.code == herald.ErrorCode.UNSENT
    assert "2 messages not sent" in err.value.message
    assert "never connected" in err.value.message
    p.close()                           # closed already: nothing more to say
    with pytest.raises(herald.HeraldError) as closed:
        p.publish("truth", 3)
    assert closed.value.code == herald.ErrorCode.INVALID


def test_close_succeeds_with_a_broker(broker):
    with herald.Subscriber(broker.egress, ["truth"]) as sub:
        sub.sync(10)
        p = herald.Publisher(broker.ingress)
        p.publish("truth", {"a": 1})
        p.close()
        assert sub.recv(timeout=10) == ("truth", {"a": 1})


def test_close_without_publishing_succeeds_without_a_broker():
    herald.Publisher(NOWHERE, linger=0.2).close()


def test_context_manager_raises_without_a_broker():
    with pytest.raises(herald.HeraldError) as err:
        with herald.Publisher(NOWHERE, linger=0.2) as p:
            p.publish("truth", {"a": 1})
    assert err.value.code == herald.ErrorCode.UNSENT
    assert "1 message not sent" in err.value.message


def test_context_manager_keeps_the_block_exception_and_notes_the_loss():
    with pytest.raises(KeyError) as err:
        with herald.Publisher(NOWHERE, linger=0.2) as p:
            p.publish("truth", {"a": 1})
            raise KeyError("from the block")
    notes = getattr(err.value, "__notes__", [])
    assert any("1 message not sent" in n for n in notes), notes


def test_context_manager_succeeds_with_a_broker(broker):
    with herald.Subscriber(broker.egress, ["truth"]) as sub:
        sub.sync(10)
        with herald.Publisher(broker.ingress) as p:
            p.publish("truth", {"a": 1})
        assert sub.recv(timeout=10) == ("truth", {"a": 1})


def test_unclosed_publisher_reports_a_loss_at_exit():
    script = "import herald\nherald.Publisher('%s', linger=0.2).publish('truth', 1)\n" % NOWHERE
    out = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=60,
                         env=py_env(), cwd=ROOT)
    assert "1 message not sent" in out.stderr, out.stderr
