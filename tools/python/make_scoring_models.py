"""Train and export the scoring models shipped in models/ (train.py with fixed arguments).

    /usr/bin/python3 tools/python/make_scoring_models.py [--only nab|smd] [--shared ../shared]

  nab_machine_temp     prediction (Telemanom-style forecaster): LSTM 2 x 32, window 64, horizon 10,
                       target 0, point output, windowed, scoring absolute (one-step-ahead error),
                       trained on the NAB probationary period (the first 15% = 3404 rows of
                       models/data/machine_temperature_system_failure.csv; 0.8 / 0.2 train /
                       validation), threshold calibrated on an injected validation copy.
                       Reference: rows 0-2499 of that CSV.
  smd_machine-1-7      reconstruction (EncDec-AD): LSTM 64, window 32, reverse decoding, trained
                       with the decoder fed its own outputs, scoring mahalanobis with mean
                       pooling, trained on SMD machine-1-7's train file (all 23697 rows, 0.8 / 0.2;
                       ../shared/data/smd/train/machine-1-7.txt, not bundled: 7 MB), threshold
                       calibrated on an injected validation copy. Reference: rows 0-1999 of
                       models/data/smd_machine-1-7_test_head2500.csv (the first 2500 test rows).

Both print their training time, losses, threshold calibration and the detection of the labelled
windows (NAB combined_windows.json; SMD test labels over the whole test file) at the default
threshold. Deterministic for one machine and torch build (seeded, one thread).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import train as tr  # noqa: E402

INJECT = "spikes,level-shifts,noise-bursts"


def nab_args(shared):
    return [os.path.join(REPO, "models", "data", "machine_temperature_system_failure.csv"),
            "--out", os.path.join(REPO, "models", "nab_machine_temp.safetensors"),
            "--kind", "prediction", "--cell", "LSTM", "--hidden", "32", "--layers", "2", "--seq-len", "64",
            "--horizon", "10", "--targets", "0", "--output", "point", "--state", "windowed",
            "--scoring", "absolute", "--stride", "1",
            "--train-rows", "3404", "--train-fraction", "0.8", "--epochs", "20", "--patience", "3",
            "--batch-size", "64", "--lr", "1e-3", "--seed", "0", "--inject", INJECT,
            "--reference-rows", "2500",
            "--description", "NAB realKnownCause/machine_temperature_system_failure.csv (numenta/NAB @ ea702d75cc22)"] + \
        (["--labels", os.path.join(shared, "data", "nab", "labels", "combined_windows.json")]
         if os.path.exists(os.path.join(shared, "data", "nab", "labels", "combined_windows.json")) else [])


def smd_args(shared):
    smd = os.path.join(shared, "data", "smd")
    return [os.path.join(smd, "train", "machine-1-7.txt"),
            "--out", os.path.join(REPO, "models", "smd_machine-1-7.safetensors"),
            "--kind", "reconstruction", "--cell", "LSTM", "--hidden", "64", "--layers", "1", "--seq-len", "32",
            "--decode", "reverse", "--scoring", "mahalanobis", "--pooling", "mean", "--stride", "1",
            "--teacher-forcing", "off", "--max-train-windows", "2000",
            "--train-fraction", "0.8", "--epochs", "20", "--patience", "3", "--batch-size", "64", "--lr", "1e-3",
            "--seed", "0", "--inject", INJECT,
            "--reference-csv", os.path.join(REPO, "models", "data", "smd_machine-1-7_test_head2500.csv"),
            "--reference-rows", "2000",
            "--labels", os.path.join(smd, "test_label", "machine-1-7.txt"),
            "--eval-csv", os.path.join(smd, "test", "machine-1-7.txt"),
            "--description", "SMD machine-1-7 test rows 0-1999 (OmniAnomaly/InterFusion, MIT)"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=["nab", "smd"])
    p.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared"),
                   help="the shared folder holding data/smd and data/nab/labels (default ../shared)")
    args = p.parse_args(argv)
    if args.only in (None, "nab"):
        print("== nab_machine_temp")
        tr.main(nab_args(args.shared))
    if args.only in (None, "smd"):
        print("== smd_machine-1-7")
        tr.main(smd_args(args.shared))
    return 0


if __name__ == "__main__":
    sys.exit(main())
