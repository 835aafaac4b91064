"""Test of plot.py on `rnnad detect` outputs of the bundled models. Exits 77 (CTest SKIP) when
matplotlib is missing, non-zero on failure.

    RNNAD_CLI=build/release/tools/rnnad /usr/bin/python3 tools/python/test_plot.py [-v]

Runs the bundled NAB forecaster on its series (NAB windows) and the SMD model on its 2,500-row head
(0/1 labels), renders each with plot.py and checks a valid PNG of the expected size came out (PNG
signature, IHDR 1400 px wide, one panel per feature drawn plus the score panel). Bad inputs (a
non-numeric score, a missing events JSON, labels of the wrong length, an unknown feature) exit 3
with one line on stderr naming the file, and leave no PNG behind.
"""
import os
import struct
import subprocess
import sys
import tempfile
import unittest

try:
    import matplotlib  # noqa: F401
except ImportError:
    print("SKIP: matplotlib is missing (apt-get install python3-matplotlib)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(REPO, "models")
DATA = os.path.join(MODELS, "data")
PLOT = os.path.join(HERE, "plot.py")


def cli():
    path = os.environ.get("RNNAD_CLI", "")
    if not path:
        raise RuntimeError("RNNAD_CLI is not set (CTest sets it)")
    return path


def png_size(path):
    """(width, height) from a PNG's IHDR; raises AssertionError when it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: no PNG signature"
    assert head[12:16] == b"IHDR", f"{path}: no IHDR chunk first"
    return struct.unpack(">II", head[16:24])


def plot(*args):
    return subprocess.run([sys.executable, PLOT, *args], capture_output=True, text=True)


class PlotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.nab = os.path.join(cls.dir, "nab.csv")
        cls.nab_labels = os.path.join(DATA, "machine_temperature_system_failure_windows.json")
        subprocess.run([cli(), "detect", "--model", os.path.join(MODELS, "nab_machine_temp.safetensors"), "--input",
                        os.path.join(DATA, "machine_temperature_system_failure.csv"), "--order", "ignore",
                        "--device", "cpu", "--output", cls.nab], check=True, capture_output=True)
        cls.smd = os.path.join(cls.dir, "smd.csv")
        cls.smd_labels = os.path.join(DATA, "smd_machine-1-7_test_head2500_label.txt")
        subprocess.run([cli(), "detect", "--model", os.path.join(MODELS, "smd_machine-1-7.safetensors"), "--input",
                        os.path.join(DATA, "smd_machine-1-7_test_head2500.csv"), "--device", "cpu",
                        "--output", cls.smd], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assert_png(self, path, panels):
        w, h = png_size(path)
        self.assertEqual(w, 1400)                         # 14 in at 100 dpi
        self.assertEqual(h, round(100 * (2.2 * panels + 0.8)))
        self.assertGreater(os.path.getsize(path), 20000)  # drawn, not an empty canvas

    def test_nab_with_windows(self):
        out = os.path.join(self.dir, "nab.png")
        r = plot(self.nab, "--png", out, "--labels", self.nab_labels)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assert_png(out, panels=2)
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith(".")], [])  # no temporary left

    def test_smd_with_binary_labels_and_chosen_features(self):
        out = os.path.join(self.dir, "smd.png")
        r = plot(self.smd, "--png", out, "--labels", self.smd_labels, "--log-score")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_png(out, panels=4)                    # three features by contribution + score
        out2 = os.path.join(self.dir, "smd2.png")
        r = plot(self.smd, "--png", out2, "--features", "m1,5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_png(out2, panels=3)

    def assert_bad(self, args, names):
        out = os.path.join(self.dir, "bad.png")
        r = plot(*args, "--png", out)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("plot.py: error: "), r.stderr)
        self.assertIn(names, r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_bad_inputs(self):
        bad = os.path.join(self.dir, "bad_score.csv")
        with open(self.nab) as f:
            lines = f.read().splitlines()
        lines[100] = lines[100].replace(",0.", ",x0.", 1)
        with open(bad, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.assert_bad([bad, "--events", os.path.splitext(self.nab)[0] + ".events.json"],
                        f"{bad}:101: column 'score': ")
        self.assert_bad([os.path.join(self.dir, "missing.csv")], "missing.csv: No such file")
        no_events = os.path.join(self.dir, "no_events.csv")
        with open(no_events, "w") as f:
            f.write("\n".join(lines[:50]) + "\n")
        self.assert_bad([no_events], "no_events.events.json: No such file")
        self.assert_bad([self.smd, "--labels", os.path.join(DATA, "machine_temperature_system_failure_windows.json")],
                        "NAB windows need timestamps")
        short = os.path.join(self.dir, "short_labels.txt")
        with open(short, "w") as f:
            f.write("0\n1\n")
        self.assert_bad([self.smd, "--labels", short], f"{short}: 2 labels for the 2500 rows")
        self.assert_bad([self.smd, "--features", "m99"], "no value column 'm99'")

    def test_usage_error(self):
        r = plot(self.nab)  # --png missing
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
