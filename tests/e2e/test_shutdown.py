"""SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], as Redis 7.0 has it.

ember has no persistence yet, so SHUTDOWN stops the whole server the way
SIGTERM does: every worker stops gracefully, the arenas stay for the next
start, the supervisor exits 0.  What is checked, with 1 and 2 workers:

  * `redis-cli shutdown` and `redis-cli shutdown nosave` print nothing and
    exit 0 (the connection closes without a reply, as with Redis), the
    supervisor exits with status 0 and the log says why (the client that
    asked, on its worker, and the supervisor's "SHUTDOWN command");
  * the data stays: the next start over the same arenas finds it, and a
    command pipelined after SHUTDOWN on the same connection never ran;
  * the refusals leave the server running: ABORT ("No shutdown in
    progress."), bad options and NOSAVE with SAVE (syntax error), and SAVE,
    which ember cannot honour (an error that says why; SAVE FORCE stops
    anyway, as FORCE ignores what would prevent the exit).

EMBER_TARGET=redis runs the Redis-observable parts against redis-server
(the checks of ember's log and arenas are skipped there).
"""

import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

OK = Simple(b"OK")


class ShutdownTest(unittest.TestCase):

    def setUp(self):
        self.kind = h.target_kind()
        if self.kind == "external":
            self.skipTest("SHUTDOWN stops the server: needs one of its own")

    def start(self, workers=1, server=None):
        s = server or h.make_server(self.kind, workers=workers)
        s.start()
        self.addCleanup(self.cleanup, s)
        return s

    @staticmethod
    def cleanup(s):
        """Stop what still runs (checked), or for a server that exited on
        its own check only for sanitizer reports; remove its files."""
        try:
            if s.proc is not None and s.proc.poll() is not None:
                s.stop(check=False)
                bad = [f for f in s.failures if "sanitizer" in f]
                if bad:
                    raise h.ServerStopError("\n".join(bad))
            elif s.proc is not None:
                s.stop()
        finally:
            if not os.environ.get("EMBER_KEEP_TMP") and s.kind == "ember":
                h.remove_shm(s.name)
                if s.dir:
                    shutil.rmtree(s.dir, ignore_errors=True)

    def log(self, s):
        return s.log_text() if self.kind == "ember" else \
            open(s.log_files()[0], encoding="utf-8", errors="replace").read()

    def wait_exit(self, s, timeout=15):
        try:
            return s.proc.wait(timeout)
        except Exception:
            self.fail("the server did not exit within %ds after SHUTDOWN\n%s"
                      % (timeout, s.log_tail()))

    def shutdown_cli(self, workers, *args):
        s = self.start(workers)
        c = s.client()
        self.assertEqual(c.call("SET", "kept", "yes"), OK)
        c.close()
        r = s.cli("shutdown", *args)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assertEqual(self.wait_exit(s), 0)
        self.assertFalse(h.ping(s.host, s.port))
        log = self.log(s)
        self.assertIn("User requested shutdown", log)
        if self.kind == "ember":
            self.assertRegex(log, r"User requested shutdown: SHUTDOWN%s from "
                             r"client id=\d+ addr=127\.0\.0\.1:\d+" %
                             (" NOSAVE" if args else ""))
            self.assertRegex(log, r"SHUTDOWN command from a client of worker "
                             r"\d")
            self.assertIn("ember stopped; data stays in the arenas", log)
            self.assertNotIn("received SIGTERM", log)
            # the data is there at the next start
            s.stop(check=False, keep_files=True)
            s2 = self.start(server=s.successor())
            with s2.client() as c2:
                self.assertEqual(c2.call("GET", "kept"), b"yes")
            self.assertRegex(s2.log_text(), r"\(clean exit\), no reload")

    def test_redis_cli_shutdown_1_worker(self):
        self.shutdown_cli(1)

    def test_redis_cli_shutdown_2_workers(self):
        self.shutdown_cli(2)

    def test_redis_cli_shutdown_nosave_1_worker(self):
        self.shutdown_cli(1, "nosave")

    def test_redis_cli_shutdown_nosave_2_workers(self):
        self.shutdown_cli(2, "nosave")

    def test_no_reply_and_nothing_after(self):
        """The connection closes without a byte; a command pipelined after
        SHUTDOWN never runs."""
        for workers in (1, 2):
            with self.subTest(workers=workers):
                s = self.start(workers)
                c = s.client()
                c.send_raw(h.encode_command("SHUTDOWN", "NOW") +
                           h.encode_command("SET", "after", "shutdown"))
                self.assertEqual(c.read_raw_until_closed(10), b"")
                c.close()
                self.assertEqual(self.wait_exit(s), 0)
                if self.kind == "ember":
                    s.stop(check=False, keep_files=True)
                    s2 = self.start(server=s.successor())
                    with s2.client() as c2:
                        self.assertIsNone(c2.call("GET", "after"))

    def test_refusals_keep_serving(self):
        s = self.start(2 if self.kind == "ember" else 1)
        c = s.client()
        cases = [
            (("SHUTDOWN", "ABORT"), "ERR No shutdown in progress."),
            (("SHUTDOWN", "BOGUS"), "ERR syntax error"),
            (("SHUTDOWN", "NOSAVE", "SAVE"), "ERR syntax error"),
            (("SHUTDOWN", "ABORT", "NOW"), "ERR syntax error"),
            (("SHUTDOWN", "NOW", "FORCE", "ABORT"), "ERR syntax error"),
        ]
        for cmd, err in cases:
            r = c.call(*cmd)
            self.assertIsInstance(r, h.Error, cmd)
            self.assertEqual(r.text, err, cmd)
        self.assertEqual(c.call("PING"), Simple(b"PONG"))
        r = s.cli("shutdown", "abort")
        self.assertEqual(r.stdout.strip(), "ERR No shutdown in progress.")
        self.assertIsNone(s.proc.poll())

    @unittest.skipIf(h.target_kind() != "ember",
                     "Redis saves an RDB file here; ember cannot")
    def test_save_is_refused_without_force(self):
        s = self.start(2)
        c = s.client()
        r = c.call("SHUTDOWN", "SAVE")
        self.assertIsInstance(r, h.Error)
        # Redis's prefix for a failed save, then why
        self.assertTrue(r.text.startswith("ERR Errors trying to SHUTDOWN."),
                        r.text)
        self.assertIn("persistence", r.text)
        self.assertIn("NOSAVE", r.text)
        self.assertEqual(c.call("PING"), Simple(b"PONG"))
        self.assertIsNone(s.proc.poll())
        self.assertRegex(s.log_text(), r"SHUTDOWN SAVE from client id=\d+ .*"
                         r"refused: ember has no persistence")
        # FORCE: stop anyway, saying that nothing was saved
        c.send("SHUTDOWN", "SAVE", "FORCE")
        self.assertEqual(c.read_raw_until_closed(10), b"")
        self.assertEqual(self.wait_exit(s), 0)
        self.assertIn("SHUTDOWN SAVE FORCE (nothing to save to: no persistence "
                      "yet)", s.log_text())


if __name__ == "__main__":
    unittest.main()
