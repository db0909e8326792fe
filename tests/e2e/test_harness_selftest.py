"""Self-test of the end-to-end harness, against whichever target is selected
(ember by default, EMBER_TARGET=redis, or EMBER_HOST/EMBER_PORT).

ParserTest needs no server: it feeds crafted RESP2/RESP3 bytes, whole and one
byte at a time.  TargetTypesTest provokes every reply type the target can
produce and checks the typed values and the exact bytes.  LifecycleTest
checks what the harness promises about processes and files: readiness,
errors with the log tail, SIGTERM then SIGKILL, nothing left behind even
when the harness itself is killed.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import (BigNumber, Double, Error, Map, Push, Set, Simple,  # noqa
                     Verbatim)


def feed_bytewise(data):
    r = h.Reader()
    out = []
    for i in range(len(data)):
        r.feed(data[i:i + 1])
        while True:
            n = r.get()
            if n is None:
                break
            out.append(n)
    return out


class ParserTest(unittest.TestCase):

    SAMPLES = [
        (b"+OK\r\n", Simple, Simple(b"OK")),
        (b"-ERR no such key\r\n", Error, Error(b"ERR no such key")),
        (b":-42\r\n", int, -42),
        (b"$5\r\nhe\r\no\r\n", bytes, b"he\r\no"),
        (b"$0\r\n\r\n", bytes, b""),
        (b"$-1\r\n", type(None), None),
        (b"*-1\r\n", type(None), None),
        (b"_\r\n", type(None), None),
        (b"*0\r\n", list, []),
        (b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n", list, [1, b"a", [b"x"]]),
        (b",1.5\r\n", Double, 1.5),
        (b",-inf\r\n", Double, float("-inf")),
        (b"#t\r\n", bool, True),
        (b"#f\r\n", bool, False),
        (b"(3492890328409238509324850943850943825024385\r\n", BigNumber,
         3492890328409238509324850943850943825024385),
        (b"=15\r\ntxt:Some string\r\n", Verbatim, b"Some string"),
        (b"!21\r\nSYNTAX invalid syntax\r\n", Error,
         b"SYNTAX invalid syntax"),
        (b"%2\r\n+a\r\n:1\r\n$1\r\nb\r\n_\r\n", Map, {b"a": 1, b"b": None}),
        (b"~2\r\n:1\r\n:1\r\n", Set, [1, 1]),
        (b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", Push,
         [b"message", b"ch", b"hi"]),
    ]

    def test_every_type(self):
        for raw, typ, value in self.SAMPLES:
            with self.subTest(raw=raw):
                (node,) = h.parse_all(raw)
                self.assertEqual(node.raw, raw)
                v = node.py()
                self.assertIs(type(v), typ)
                self.assertEqual(v, value)

    def test_bytewise_feeding_gives_the_same_nodes(self):
        stream = b"".join(raw for raw, _, _ in self.SAMPLES)
        whole = h.parse_all(stream)
        pieces = feed_bytewise(stream)
        self.assertEqual([n.raw for n in whole], [n.raw for n in pieces])
        self.assertEqual(len(whole), len(self.SAMPLES))

    def test_simple_and_bulk_are_distinct(self):
        a = h.parse_all(b"+OK\r\n")[0].py()
        b = h.parse_all(b"$2\r\nOK\r\n")[0].py()
        self.assertEqual(a, b)                 # same bytes...
        self.assertIsNot(type(a), type(b))     # ...but not the same reply

    def test_attribute_is_attached_to_the_next_reply(self):
        raw = b"|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n"
        (node,) = h.parse_all(raw)
        self.assertEqual(node.raw, raw)
        self.assertEqual(node.py(), b"val")
        self.assertEqual(h.to_python(node.attrs.v[1]), 3600)

    def test_verbatim_format(self):
        v = h.parse_all(b"=8\r\nmkd:# hi\r\n")[0].py()
        self.assertEqual(v.format, b"mkd")
        self.assertEqual(v, b"# hi")

    def test_double_keeps_its_text(self):
        v = h.parse_all(b",1e+20\r\n")[0].py()
        self.assertEqual(v.raw, b"1e+20")
        self.assertEqual(v, 1e20)

    def test_protocol_errors(self):
        for bad in (b"?x\r\n", b":12a\r\n", b"$3\r\nabcd\r\n", b"*-2\r\n",
                    b"#x\r\n", b"_x\r\n", b"=3\r\nabc\r\n"):
            with self.subTest(bad=bad):
                with self.assertRaises(h.ProtocolError):
                    h.parse_all(bad)[0].py()

    def test_incomplete_is_not_an_error(self):
        r = h.Reader()
        r.feed(b"*2\r\n$3\r\nfoo\r\n$3\r\nba")
        self.assertIsNone(r.get())
        r.feed(b"r\r\n")
        self.assertEqual(r.get().py(), [b"foo", b"bar"])

    def test_encode_command(self):
        self.assertEqual(h.encode_command("SET", b"k\r\n", 12, 1.5),
                         b"*4\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$2\r\n12\r\n"
                         b"$3\r\n1.5\r\n")


class TargetTypesTest(h.ServerTestCase):
    """Typed parsing of what the selected target really sends."""

    def unsupported(self, reply, what):
        if isinstance(reply, Error) and reply.code == "ERR" and (
                b"unknown command" in reply or b"unknown subcommand" in reply
                or b"not allowed" in reply):
            self.skipTest("target lacks %s: %s" % (what, reply.text))

    def test_ready_and_ping(self):
        self.assertTrue(self.server.ping())
        self.assertReply(self.r.call("PING"), Simple, b"PONG")
        self.assertReply(self.r.call("PING", "hi"), bytes, b"hi")
        self.assertReply(self.r.call("ECHO", b"a\r\nb\x00"), bytes,
                         b"a\r\nb\x00")

    def test_resp2_replies(self):
        r = self.r
        self.assertEqual(r.call_node("SET", "k", "v").raw, b"+OK\r\n")
        self.assertEqual(r.call_node("GET", "k").raw, b"$1\r\nv\r\n")
        self.assertEqual(r.call_node("GET", "missing").raw, b"$-1\r\n")
        self.assertEqual(r.call_node("INCR", "n").raw, b":1\r\n")
        self.assertEqual(r.call_node("MGET", "k", "missing").raw,
                         b"*2\r\n$1\r\nv\r\n$-1\r\n")
        e = r.call("INCR", "k")
        self.assertReply(e, Error,
                         b"ERR value is not an integer or out of range")
        self.assertEqual(e.code, "ERR")
        r.call("RPUSH", "l", "a")
        e = r.call("GET", "l")
        self.assertEqual(e.code, "WRONGTYPE")
        with self.assertRaises(h.ReplyError):
            r.execute("GET", "l")
        self.assertEqual(
            r.call_node("GET").raw,
            b"-ERR wrong number of arguments for 'get' command\r\n")
        # A null array, not a null bulk (Redis 7 LPOP with a count).
        self.assertEqual(r.call_node("LPOP", "nolist", 2).raw, b"*-1\r\n")

    def test_resp3_replies(self):
        r = self.client(resp=3)
        self.assertIsInstance(r.hello, Map)
        self.assertEqual(r.hello[b"proto"], 3)
        self.assertEqual(r.call_node("GET", "missing").raw, b"_\r\n")
        self.assertEqual(r.call_node("LPOP", "nolist", 2).raw, b"_\r\n")
        r.call("HSET", "h", "f1", "v1", "f2", "v2")
        m = r.call("HGETALL", "h")
        self.assertIsInstance(m, Map)
        self.assertEqual(m, {b"f1": b"v1", b"f2": b"v2"})
        r.call("SADD", "s", "a", "b")
        s = r.call("SMEMBERS", "s")
        self.assertIs(type(s), Set)
        self.assertEqual(sorted(s), [b"a", b"b"])
        r.call("ZADD", "z", "1.5", "m", "2", "n")
        d = r.call("ZSCORE", "z", "m")
        self.assertIs(type(d), Double)
        self.assertEqual(d.raw, b"1.5")
        self.assertEqual(r.call("ZRANGE", "z", 0, -1, "WITHSCORES"),
                         [[b"m", 1.5], [b"n", 2.0]])
        self.assertIs(type(r.call("ZINCRBY", "z", "1", "m")), Double)

    def test_resp3_verbatim(self):
        r = self.client(resp=3)
        v = r.call("INFO", "server")
        self.unsupported(v, "INFO")
        self.assertIs(type(v), Verbatim)
        self.assertEqual(v.format, b"txt")

    def test_resp3_push(self):
        sub = self.client(resp=3)
        reply = sub.call("SUBSCRIBE", "chan")
        self.unsupported(reply, "SUBSCRIBE")
        self.assertIs(type(reply), Push)
        self.assertEqual(reply, [b"subscribe", b"chan", 1])
        self.assertEqual(self.r.call("PUBLISH", "chan", "hello"), 1)
        self.assertEqual(sub.read(), Push([b"message", b"chan", b"hello"]))

    def test_debug_protocol_types(self):
        # DEBUG PROTOCOL exists in redis-server only: guarded.
        r = self.client(resp=3)
        probe = r.call("DEBUG", "PROTOCOL", "true")
        self.unsupported(probe, "DEBUG PROTOCOL")
        if isinstance(probe, Error):
            self.skipTest("DEBUG PROTOCOL refused: %s" % probe.text)
        self.assertIs(probe, True)
        self.assertIs(r.call("DEBUG", "PROTOCOL", "false"), False)
        self.assertIs(type(r.call("DEBUG", "PROTOCOL", "bignum")), BigNumber)
        self.assertIs(type(r.call("DEBUG", "PROTOCOL", "verbatim")), Verbatim)
        self.assertIs(type(r.call("DEBUG", "PROTOCOL", "double")), Double)
        self.assertIsNone(r.call("DEBUG", "PROTOCOL", "null"))
        self.assertIs(type(r.call("DEBUG", "PROTOCOL", "map")), Map)
        self.assertIs(type(r.call("DEBUG", "PROTOCOL", "set")), Set)
        node = r.call_node("DEBUG", "PROTOCOL", "attrib")
        self.assertIsNotNone(node.attrs)
        self.assertEqual(node.py(), b"Some real reply following the attribute")

    def test_pipelining(self):
        replies = self.r.pipeline([("INCR", "c")] * 1000)
        self.assertEqual(replies, list(range(1, 1001)))
        # Large replies arrive in many pieces; the parser reassembles them.
        big = os.urandom(300000)
        replies = self.r.pipeline([("SET", "b", big)] + [("GET", "b")] * 20)
        self.assertEqual(replies[0], b"OK")
        self.assertTrue(all(x == big for x in replies[1:]))

    def test_raw_bytes_and_inline(self):
        self.r.send_raw(b"PING\r\n")
        self.assertEqual(self.r.read_node().raw, b"+PONG\r\n")
        self.r.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\x00b\r\n"
                        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        self.assertEqual(self.r.read(), b"OK")
        self.assertEqual(self.r.read(), b"a\x00b")

    def test_redis_cli(self):
        self.assertEqual(self.server.cli("PING").stdout.strip(), "PONG")
        self.server.cli("SET", "ck", "hello")
        self.assertEqual(self.server.cli("GET", "ck").stdout.strip(), "hello")
        out = self.server.cli("GET", "ck", resp3=True)
        self.assertEqual(out.returncode, 0)

    def test_redis_py(self):
        r = self.server.redis_py()
        try:
            self.assertTrue(r.ping())
            r.set("pk", b"\x00\xff")
            self.assertEqual(r.get("pk"), b"\x00\xff")
        finally:
            r.close()


class LifecycleTest(unittest.TestCase):
    """What the harness promises about processes, ports and files."""

    def setUp(self):
        if h.target_kind() == "external":
            self.skipTest("lifecycle needs managed servers")
        self.kind = h.target_kind()

    def assertGone(self, pid, path, name):
        deadline = time.monotonic() + 5
        while h.group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(h.group_members(pid), [], "processes left behind")
        self.assertFalse(os.path.exists(path), "temporary dir left behind")
        self.assertEqual(h.shm_files(name), [], "arenas left in /dev/shm")

    def test_start_stop_leaves_nothing(self):
        s = h.start_server(self.kind)
        pid, path, name = s.pid, s.dir, s.name
        self.assertTrue(os.path.isdir(path))
        if self.kind == "ember":
            self.assertTrue(s.shm_files(), "ember should keep its arenas at "
                            "/dev/shm/%s-*" % name)
        s2 = h.start_server(self.kind)
        try:
            self.assertNotEqual(s.port, s2.port)
            self.assertNotEqual(s.name, s2.name)
        finally:
            s2.stop()
        self.assertEqual(s.stop(), 0)
        self.assertGone(pid, path, name)

    def test_workers_are_stopped_too(self):
        if self.kind != "ember":
            self.skipTest("workers are an ember thing")
        s = h.start_server("ember", workers=2)
        pid, path, name = s.pid, s.dir, s.name
        self.assertGreaterEqual(len(h.group_members(pid)), 3,
                                "supervisor + 2 workers expected")
        s.stop()
        self.assertGone(pid, path, name)

    def test_start_failure_shows_the_log(self):
        s = h.make_server(self.kind, args=["--no-such-option", "x"])
        with self.assertRaises(h.ServerStartError) as cm:
            s.start(timeout=10)
        msg = str(cm.exception)
        self.assertIn("exited with status", msg)
        self.assertIn("--- ", msg)   # a log tail section
        self.assertIsNone(s.dir)

    def test_stop_escalates_to_sigkill(self):
        s = h.start_server(self.kind)
        pid, path, name = s.pid, s.dir, s.name
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        with self.assertRaises(h.ServerStopError) as cm:
            s.stop(timeout=1)
        self.assertIn("SIGKILL", str(cm.exception))
        self.assertLess(time.monotonic() - t0, 8)
        self.assertGone(pid, path, name)

    def test_crash_is_reported_at_stop(self):
        s = h.start_server(self.kind)
        pid, path, name = s.pid, s.dir, s.name
        s.kill(signal.SIGKILL)
        time.sleep(0.2)
        with self.assertRaises(h.ServerStopError) as cm:
            s.stop()
        self.assertIn("died before stop", str(cm.exception))
        self.assertGone(pid, path, name)

    def _child(self, body):
        code = textwrap.dedent("""
            import os, sys, time
            sys.path.insert(0, %r)
            import harness as h
            s = h.start_server(%r)
            print(s.pid, s.dir, s.name, flush=True)
        """) % (os.path.dirname(os.path.abspath(h.__file__)), self.kind)
        code += textwrap.dedent(body)
        p = subprocess.Popen([sys.executable, "-c", code],
                             stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().split()
        self.assertEqual(len(line), 3, "child did not start a server")
        return p, int(line[0]), line[1], line[2]

    def test_sigterm_to_the_harness_cleans_up(self):
        p, pid, path, name = self._child("time.sleep(60)\n")
        p.send_signal(signal.SIGTERM)
        p.wait(20)
        self.assertEqual(p.returncode, -signal.SIGTERM)
        self.assertGone(pid, path, name)

    def test_exit_without_stop_cleans_up(self):
        p, pid, path, name = self._child("sys.exit(0)\n")
        p.wait(20)
        self.assertGone(pid, path, name)

    def test_sigkill_of_the_harness_still_stops_the_server(self):
        p, pid, path, name = self._child("time.sleep(60)\n")
        p.kill()
        p.wait(5)
        deadline = time.monotonic() + 15
        while h.group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        # The parent-death signal stopped the server; its files stay until
        # the next harness sweeps them (temp dir) or sweep_stale_shm runs.
        self.assertEqual(h.group_members(pid), [], "server outlived harness")
        h.sweep_stale_shm()
        self.assertEqual(h.shm_files(name), [])
        import shutil
        shutil.rmtree(path, ignore_errors=True)


class DifftestSelfTest(unittest.TestCase):
    """tests/diff/difftest.py --self-test: two redis-servers, one behind a
    proxy that corrupts replies; every corruption must be reported and the
    allowed differences (order of unordered replies, TTL jitter) must not.
    Independent of the selected target."""

    def test_difftest_catches_corrupted_replies(self):
        import shutil
        if not (os.environ.get("REDIS_SERVER") or
                shutil.which("redis-server")):
            self.skipTest("redis-server is not installed")
        script = os.path.join(h.REPO, "tests", "diff", "difftest.py")
        p = subprocess.run([sys.executable, script, "--self-test",
                            "--seed", "1"], capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertIn("difftest self-test: OK", p.stdout)


if __name__ == "__main__":
    unittest.main()
