"""Test of `rnnad eval --threshold` (docs/cli.md, "rnnad eval"): re-thresholding the score column of
a per-row CSV with detect's threshold code. Exits non-zero on failure.

    RNNAD_CLI=build/release/tools/rnnad /usr/bin/python3 tools/python/test_cli_eval.py [-v]

Hand-computed cases on a 10-row score file (static with a value, static fitted on calibration rows,
the metrics), agreement with `rnnad detect --threshold` on the bundled NAB series for every method,
and the usage and input errors.
"""
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "models")
DATA = os.path.join(MODELS, "data")

# Row 0 has no score. Labels: segments rows 2-3 and row 8. Scores exact in float32 (eval reads
# scores as float32: docs/cli.md), so a comparison with a threshold in double is exact too.
SCORES = [None, 0.125, 0.875, 0.75, 0.25, 0.625, 0.375, 0.125, 0.9375, 0.25]
LABELS = [0, 0, 1, 1, 0, 0, 0, 0, 1, 0]


def cli(*args):
    path = os.environ.get("RNNAD_CLI", "")
    if not path:
        raise RuntimeError("RNNAD_CLI is not set (CTest sets it)")
    return subprocess.run([path, *args], capture_output=True, text=True)


def line(text, prefix):
    found = [l for l in text.splitlines() if l.startswith(prefix)]
    assert len(found) == 1, f"no single '{prefix}' line in:\n{text}"
    return found[0]


def metric_lines(text):
    """The lines from 'labels:' to 'oracle:' (what detect and eval print alike)."""
    lines = text.splitlines()
    a = next(i for i, l in enumerate(lines) if l.startswith("labels:"))
    b = next(i for i, l in enumerate(lines) if l.startswith("oracle:"))
    return lines[a:b + 1]


class EvalThresholdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.scores = os.path.join(d, "scores.csv")
        with open(cls.scores, "w") as f:  # score only: --threshold needs no is_anomaly column
            f.write("score\n" + "".join(("" if s is None else repr(s)) + "\n" for s in SCORES))
        cls.labels = os.path.join(d, "labels.txt")
        with open(cls.labels, "w") as f:
            f.write("".join(f"{v}\n" for v in LABELS))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_static_value_by_hand(self):
        # score > 0.5 flags rows 2, 3, 5, 8: tp 3 (2, 3, 8), fp 1 (5), fn 0 -> P 0.75, R 1, F1 6/7.
        # Runs of flags [2-3], [5], [8] against segments [2-3], [8]: 2 found, 1 false event -> F1 0.8.
        r = cli("eval", "--scores", self.scores, "--labels", self.labels, "--threshold", "static",
                "--threshold-value", "0.5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(", 4 flagged rows", line(r.stdout, "scores:"))
        self.assertEqual(line(r.stdout, "threshold:"),
                         "threshold:  static (--threshold): threshold 0.5 (--threshold-value)")
        self.assertIn("precision 0.750, recall 1.000, F1 0.857 (tp 3, fp 1, fn 0)", line(r.stdout, "point:"))
        self.assertIn("event-wise precision 0.667, recall 1.000, F1 0.800 (2 of 2 segments detected, "
                      "1 false-alarm event of 3)", line(r.stdout, "events:"))
        # 0.625 would flag row 5 too under >=: the comparison is strict (score > value).
        r = cli("eval", "-s", self.scores, "-l", self.labels, "--threshold", "static", "--threshold-value", "0.625")
        self.assertIn("(tp 3, fp 0, fn 0)", line(r.stdout, "point:"))

    def test_static_fitted_on_calibration_rows_by_hand(self):
        # First 5 scored rows 0.125 0.875 0.75 0.25 0.625: mean 0.525, squared deviations 0.16,
        # 0.1225, 0.050625, 0.075625, 0.01 -> population variance 0.08375, std 0.289396;
        # mean + 4 std = 1.68258: nothing after them is flagged.
        r = cli("eval", "-s", self.scores, "-l", self.labels, "--threshold", "static", "--calibration-rows", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(line(r.stdout, "threshold:").endswith(
            "fitted on the first 5 scored rows (--calibration-rows): 1.68258"), r.stdout)
        self.assertIn(", 0 flagged rows", line(r.stdout, "scores:"))

    def test_every_method_agrees_with_detect(self):
        windows = os.path.join(DATA, "machine_temperature_system_failure_windows.json")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "nab.csv")
            for method in ("static", "ndt", "spot", "dspot"):
                with self.subTest(method=method):
                    det = cli("detect", "--model", os.path.join(MODELS, "nab_machine_temp.safetensors"), "--input",
                              os.path.join(DATA, "machine_temperature_system_failure.csv"), "--order", "ignore",
                              "--labels", windows, "--device", "cpu", "--threshold", method, "--output", out)
                    self.assertEqual(det.returncode, 0, det.stderr)
                    # static: the model file's value, given to eval on the command line
                    extra = ["--threshold-value", "0.4219069474314241"] if method == "static" else []
                    ev = cli("eval", "--scores", out, "--labels", windows, "--threshold", method, *extra)
                    self.assertEqual(ev.returncode, 0, ev.stderr)
                    self.assertEqual(metric_lines(ev.stdout), metric_lines(det.stdout))

    def test_errors(self):
        # threshold options without --threshold: usage error
        r = cli("eval", "-s", self.scores, "-l", self.labels, "--spot-q", "0.01")
        self.assertEqual(r.returncode, 2, r.stderr)
        # out of range: bad input, one line naming the option
        r = cli("eval", "-s", self.scores, "-l", self.labels, "--threshold", "spot", "--spot-q", "0.5")
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stderr, "rnnad: error: --spot-q 0.5 must lie in (0, 1 - level) = (0, 0.02)\n")
        # without --threshold the file must have is_anomaly
        r = cli("eval", "-s", self.scores, "-l", self.labels)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(len(r.stderr.splitlines()), 1)
        self.assertIn(self.scores, r.stderr)
        self.assertIn("is_anomaly", r.stderr)


if __name__ == "__main__":
    unittest.main()
