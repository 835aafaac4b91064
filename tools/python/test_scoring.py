"""Self-check of rnnad_scoring.py, train.py and make_scoring_golden.py. Exits non-zero on failure.

    /usr/bin/python3 tools/python/test_scoring.py [-v]

Hand-computed cases: F13 (constant channel: guard value, no NaN, stored stats used as they are),
F14 (min-max 12, 15, 18, 40, 15 with min 10, max 20 -> 0.2, 0.5, 0.8, 3.0, 0.5, not refitted,
not clipped), pooling of overlapping windows (mean / max / last, stride 2 with an uncovered tail),
a Mahalanobis value and its contributions, fitted statistics (ML covariance, ridge, constant
column), lstm_ad error vectors (dimension-major, first `horizon` rows without a score) and value,
gaussian_nll, prediction row alignment, a series of exactly one window, a series shorter than a
window (F10: an error), a constant series through a real model; the export of scoring config and statistics and
the reference file; config rejections; train.py's CSV reading, F1 threshold, an end-to-end run;
that tests/golden/scoring holds what make_scoring_golden.py writes (a few cases regenerated) and
every committed reference is reproduced from its model file; and that the shipped scoring models
(models/nab_machine_temp, models/smd_machine-1-7) are reproduced from their files. Runs in ~10 s.
"""
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_scoring_golden as msg  # noqa: E402
import rnnad_export as rx  # noqa: E402
import rnnad_models as rm  # noqa: E402
import rnnad_scoring as rs  # noqa: E402
import train as tr  # noqa: E402

LN2PI = math.log(2 * math.pi)
GOLDEN = os.path.join(HERE, "..", "..", "tests", "golden", "scoring")


class Normalization(unittest.TestCase):
    def test_f13_constant_channel(self):
        train = np.array([[20.1, 1.0], [20.4, 1.0], [19.8, 1.0], [20.0, 1.0]])
        norm = rs.fit_normalization(train, "zscore", ["temp_c", "valve"])
        self.assertEqual(norm["std"][1], 0.0)               # written as fitted
        self.assertEqual(norm["mean"][1], 1.0)
        self.assertEqual(rs.constant_features(norm, 2), [1])
        x = rs.normalize(np.array([[20.0, 1.0], [20.0, 0.0]]), norm)
        self.assertTrue(np.all(np.isfinite(x)))
        self.assertEqual(x[0, 1], 0.0)
        self.assertEqual(x[1, 1], -1.0)                     # raw - mean with the guarded scale 1
        # stored stats used exactly: mean 10, std 2 -> 14 is 2.0 (not a refitted 1.732)
        self.assertEqual(rs.normalize([[14.0]], {"method": "zscore", "mean": [10.0], "std": [2.0]})[0, 0], 2.0)

    def test_guard_boundary(self):
        scale, const = rs.guarded_scale([1.0, 1.0, 1e6, 1e6, 0.0, -5.0, -5.0], [1e-13, 2e-12, 1e-7, 1e-5, 0.0, 4e-12, 6e-12])
        np.testing.assert_array_equal(const, [True, False, True, False, True, True, False])  # -5: bound 5e-12
        np.testing.assert_array_equal(scale, [1.0, 2e-12, 1.0, 1e-5, 1.0, 1.0, 6e-12])
        norm = {"method": "minmax", "min": [3.0], "max": [3.0]}
        np.testing.assert_array_equal(rs.normalize([[3.0], [5.0]], norm), [[0.0], [2.0]])

    def test_f14_minmax_not_refitted_not_clipped(self):
        norm = {"method": "minmax", "min": [10.0], "max": [20.0], "features": ["load_kw"]}
        x = rs.normalize(np.array([[12.0], [15.0], [18.0], [40.0], [15.0]]), norm)[:, 0]
        np.testing.assert_allclose(x, [0.2, 0.5, 0.8, 3.0, 0.5], rtol=0, atol=1e-15)
        refit = (np.array([12, 15, 18, 40, 15.0]) - 12) / 28
        self.assertGreater(np.abs(x - refit).max(), 0.1)
        self.assertEqual(int(np.argmax(x)), 3)

    def test_none(self):
        np.testing.assert_array_equal(rs.normalize([[1.5, -2.0]], {"method": "none"}), [[1.5, -2.0]])


class Pooling(unittest.TestCase):
    def setUp(self):
        self.step = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.5, 8.0, 9.0]])   # windows at 0, 1, 2; T = 3
        self.contrib = np.stack([self.step * 0.25, self.step * 0.75], axis=-1)

    def test_mean(self):
        s, c = rs.pool(5, [0, 1, 2], self.step, self.contrib, "mean")
        np.testing.assert_allclose(s, [1.0, 3.0, (3 + 5 + 0.5) / 3, 7.0, 9.0], rtol=1e-15)
        np.testing.assert_allclose(c.sum(axis=1), s, rtol=1e-15)
        np.testing.assert_allclose(c[:, 1], 0.75 * s, rtol=1e-15)

    def test_max(self):
        s, c = rs.pool(5, [0, 1, 2], self.step, self.contrib, "max")
        np.testing.assert_array_equal(s, [1.0, 4.0, 5.0, 8.0, 9.0])
        np.testing.assert_array_equal(c[2], [1.25, 3.75])        # contributions of the max window (w1)

    def test_max_tie_takes_earliest(self):
        step = np.array([[1.0, 2.0], [2.0, 1.0]])
        contrib = np.array([[[1.0, 0.0], [2.0, 0.0]], [[0.0, 2.0], [0.0, 1.0]]])
        s, c = rs.pool(3, [0, 1], step, contrib, "max")
        np.testing.assert_array_equal(s, [1.0, 2.0, 1.0])
        np.testing.assert_array_equal(c[1], [2.0, 0.0])          # window 0, not window 1

    def test_last(self):
        s, c = rs.pool(5, [0, 1, 2], self.step, self.contrib, "last")
        np.testing.assert_array_equal(s, [1.0, 4.0, 0.5, 8.0, 9.0])
        np.testing.assert_array_equal(c[2], [0.125, 0.375])

    def test_stride_two_tail_uncovered(self):
        starts = rs.window_starts(6, 3, 2)
        np.testing.assert_array_equal(starts, [0, 2])
        step = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        s, c = rs.pool(6, starts, step, step[..., None], "mean")
        np.testing.assert_array_equal(s[:5], [1.0, 2.0, 3.5, 5.0, 6.0])
        self.assertTrue(np.isnan(s[5]) and np.isnan(c[5, 0]))

    def test_one_window_and_short_series(self):
        np.testing.assert_array_equal(rs.window_starts(3, 3, 1), [0])
        np.testing.assert_array_equal(rs.window_starts(3, 3, 5), [0])
        self.assertEqual(len(rs.window_starts(2, 3, 1)), 0)
        step = np.array([[0.3, 0.1, 0.2]])
        for pooling in rs.POOLINGS:
            s, _ = rs.pool(3, [0], step, step[..., None], pooling)
            np.testing.assert_array_equal(s, step[0])
        x = np.zeros((2, 1))
        s, c = rs.scores_from_outputs(x, "reconstruction", {}, {"method": "absolute", "pooling": "mean"}, None,
                                      (np.zeros(0, np.int64), np.zeros((0, 3, 1))))
        self.assertTrue(np.all(np.isnan(s)) and c.shape == (2, 1) and np.all(np.isnan(c)))


class Methods(unittest.TestCase):
    def test_mahalanobis_by_hand(self):
        stats = {"mean": np.array([1.0, 2.0]), "precision": np.array([[2.0, 0.5], [0.5, 1.0]])}
        s, c = rs.vector_scores(np.array([[-3.0, 1.0]]), "mahalanobis", stats)   # u = |e| = [3, 1]
        self.assertEqual(s[0], 7.0)                  # (2, -1) . (3.5, 0)
        np.testing.assert_array_equal(c[0], [7.0, 0.0])
        s, c = rs.vector_scores(np.array([[1.0, 3.0]]), "mahalanobis", stats)    # u - mu = (0, 1)
        self.assertEqual(s[0], 1.0)
        np.testing.assert_array_equal(c[0], [0.0, 1.0])

    def test_absolute_squared_gaussian(self):
        E = np.array([[1.0, -3.0]])
        s, c = rs.vector_scores(E, "absolute")
        self.assertEqual(s[0], 2.0)
        np.testing.assert_array_equal(c[0], [0.5, 1.5])
        s, c = rs.vector_scores(E, "squared")
        self.assertEqual(s[0], 5.0)
        np.testing.assert_array_equal(c[0], [0.5, 4.5])
        s, c = rs.vector_scores(E, "gaussian_nll", logvar=np.array([[0.0, math.log(9.0)]]))
        np.testing.assert_allclose(c[0], [0.5 * (LN2PI + 1.0), 0.5 * (LN2PI + math.log(9.0) + 1.0)], rtol=1e-15)
        self.assertAlmostEqual(s[0], c[0].sum(), places=14)

    def test_fit_stats_by_hand(self):
        U = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
        st = rs.fit_stats(U, ridge=0.0)
        np.testing.assert_array_equal(st["mean"], [1.0, 1.0])
        np.testing.assert_allclose(st["precision"], np.eye(2), atol=1e-15)       # ML: divided by M
        self.assertAlmostEqual(st["log_det"], 0.0, places=15)
        st = rs.fit_stats(U, ridge=1e-6)
        self.assertEqual(st["lambda"], 1e-6)                                       # ridge * trace / k
        np.testing.assert_allclose(st["precision"], np.eye(2) / (1 + 1e-6), rtol=1e-14)
        self.assertAlmostEqual(st["log_det"], 2 * math.log1p(1e-6), places=15)

    def test_fit_stats_constant_column(self):
        U = np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])                       # var 8/3 and 0
        st = rs.fit_stats(U, ridge=1e-6)
        lam = 1e-6 * (8 / 3) / 2
        self.assertAlmostEqual(st["lambda"], lam, delta=1e-20)
        np.testing.assert_allclose(np.diag(st["precision"]), [1 / (8 / 3 + lam), 1 / lam], rtol=1e-10)
        self.assertAlmostEqual(st["log_det"], math.log(8 / 3 + lam) + math.log(lam), places=10)
        self.assertTrue(np.all(np.isfinite(st["precision"])))
        self.assertTrue(np.allclose(st["precision"], st["precision"].T, rtol=0, atol=0))

    def test_lstm_ad_stateful_by_hand(self):
        cfg = {"horizon": 2, "targets": [0], "output": "point", "state": "stateful"}
        x = np.array([[0.0], [1.0], [3.0], [6.0]])
        pred = np.array([[0.5, 2.5], [2.0, 5.0], [3.5, 7.0], [9.0, 9.0]])         # [O, horizon * d]
        origins = rs.prediction_origins(4, cfg)
        rows, E, _ = rs.prediction_error_vectors(x, origins, *rs.split_head(pred, cfg), cfg, "lstm_ad")
        np.testing.assert_array_equal(rows, [2, 3])                                # first `horizon` rows unscored
        np.testing.assert_array_equal(E, [[1.0, 0.5], [2.5, 1.0]])                 # [x - pred(r-1)[0], x - pred(r-2)[1]]
        stats = {"mean": np.zeros(2), "precision": np.eye(2), "log_det": 0.0}
        s, c = rs.prediction_scores(x, origins, pred, cfg, "lstm_ad", stats)
        self.assertTrue(np.isnan(s[0]) and np.isnan(s[1]))
        self.assertAlmostEqual(s[2], 0.5 * (2 * LN2PI + 1.25), places=14)
        self.assertAlmostEqual(s[3], 0.5 * (2 * LN2PI + 7.25), places=14)
        np.testing.assert_allclose(c[2:, 0], s[2:], rtol=1e-15)

    def test_lstm_ad_dimension_major_and_constant_split(self):
        cfg = {"horizon": 2, "targets": [1, 0], "output": "point", "state": "stateful"}
        x = np.array([[10.0, 20.0], [11.0, 21.0], [12.0, 22.0]])
        # head layout [horizon, K=1, d]: index h * d + j
        pred = np.array([[0.0, 0.0, 21.5, 11.5], [20.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
        rows, E, _ = rs.prediction_error_vectors(x, np.arange(3), *rs.split_head(pred, cfg), cfg, "lstm_ad")
        np.testing.assert_array_equal(rows, [2])
        # target 0 = feature 1: h0 from origin 1 -> 22 - 20, h1 from origin 0 -> 22 - 21.5; target 1 = feature 0
        np.testing.assert_array_equal(E, [[2.0, 0.5, 2.0, 0.5]])
        stats = {"mean": np.zeros(4), "precision": np.diag([1.0, 2.0, 3.0, 4.0]), "log_det": 0.7}
        s, c = rs.vector_scores(E, "lstm_ad", stats, n_targets=2)
        const = 0.5 * (4 * LN2PI + 0.7)
        q = np.array([4.0, 0.5, 12.0, 1.0])
        self.assertAlmostEqual(s[0], const + 0.5 * q.sum(), places=13)
        np.testing.assert_allclose(c[0], [0.5 * 4.5 + const / 2, 0.5 * 13.0 + const / 2], rtol=1e-14)

    def test_prediction_windowed_alignment(self):
        cfg = {"horizon": 1, "targets": [0], "output": "point", "state": "windowed", "seq_len": 2}
        x = np.array([[0.0], [1.0], [2.0], [4.0]])
        origins = rs.prediction_origins(4, cfg, 1)
        np.testing.assert_array_equal(origins, [1, 2, 3])
        s, c = rs.prediction_scores(x, origins, np.array([[1.5], [3.0], [99.0]]), cfg, "absolute")
        np.testing.assert_array_equal(s[2:], [0.5, 1.0])                # rows 2, 3 from origins 1, 2
        self.assertTrue(np.all(np.isnan(s[:2])) and np.all(np.isnan(c[:2])))
        np.testing.assert_array_equal(rs.prediction_origins(7, cfg, 2), [1, 3, 5])
        s, _ = rs.prediction_scores(np.arange(7.0)[:, None], [1, 3, 5], np.zeros((3, 1)), cfg, "squared")
        np.testing.assert_array_equal(np.isnan(s), [True, True, False, True, False, True, False])
        # windowed lstm_ad, horizon 2, T 2: rows from T + horizon - 1 = 3 on
        cfg2 = dict(cfg, horizon=2)
        origins = rs.prediction_origins(6, cfg2, 1)
        rows, _, _ = rs.prediction_error_vectors(np.zeros((6, 1)), origins, np.zeros((5, 2, 1)), None, cfg2, "lstm_ad")
        np.testing.assert_array_equal(rows, [3, 4, 5])

    def test_gaussian_nll_needs_logvar(self):
        cfg = {"horizon": 1, "targets": [0], "output": "point", "state": "stateful"}
        with self.assertRaises(ValueError):
            rs.prediction_scores(np.zeros((3, 1)), np.arange(3), np.zeros((3, 1)), cfg, "gaussian_nll")


class WithModels(unittest.TestCase):
    def test_constant_series(self):
        torch.manual_seed(3)
        m = rm.Reconstruction("LSTM", 3, 5, 1, seq_len=4)
        norm = rs.fit_normalization(np.tile([[1.0, 2.0, 3.0]], (10, 1)), "zscore")
        self.assertEqual(rs.constant_features(norm, 3), [0, 1, 2])
        series = np.tile([[1.0, 2.0, 3.0]], (12, 1))
        for pooling in rs.POOLINGS:
            s, c = rs.score_series(m, series, norm, {"method": "squared", "pooling": pooling, "stride": 1})
            self.assertTrue(np.all(np.isfinite(s)) and np.all(np.isfinite(c)))
            np.testing.assert_allclose(c.sum(axis=1), s, rtol=1e-13)
        s, _ = rs.score_series(m, series, norm, {"method": "absolute", "pooling": "mean", "stride": 1})
        np.testing.assert_allclose(s[3:9], s[3], rtol=1e-13)        # rows covered by all 4 steps: same mean

    def test_f10_series_shorter_than_window(self):
        torch.manual_seed(8)
        norm = {"method": "none"}
        rec = rm.Reconstruction("GRU", 1, 3, 1, seq_len=10)
        sc = {"method": "absolute", "pooling": "mean", "stride": 1}
        with self.assertRaisesRegex(ValueError, "7 rows; the model's window requires at least 10"):
            rs.score_series(rec, np.full((7, 1), 3.1), norm, sc)
        s, _ = rs.score_series(rec, np.full((10, 1), 3.1), norm, sc)            # exactly one window
        self.assertTrue(np.all(np.isfinite(s)))
        pw = rm.Prediction("GRU", 1, 3, 1, 1, [0], seq_len=10)
        sc = {"method": "absolute", "stride": 1}
        for n in (7, 10):
            with self.assertRaisesRegex(ValueError, "requires at least 11"):
                rs.score_series(pw, np.full((n, 1), 3.1), norm, sc)
        s, _ = rs.score_series(pw, np.full((11, 1), 3.1), norm, sc)             # one residual, index 10
        self.assertEqual(np.flatnonzero(~np.isnan(s)).tolist(), [10])

    def test_pipeline_matches_manual(self):
        torch.manual_seed(4)
        m = rm.Attention("GRU", 2, 4, 1, 3, seq_len=3)
        raw = np.random.default_rng(0).normal(size=(7, 2)) * 3 + 1
        norm = rs.fit_normalization(raw, "zscore")
        x = rs.normalize(raw, norm)
        s, _ = rs.score_series(m, raw, norm, {"method": "absolute", "pooling": "last", "stride": 2})
        d = m.double().eval()
        manual = np.full(7, np.nan)
        with torch.no_grad():
            for start in (0, 2, 4):
                xw = torch.from_numpy(x[start:start + 3].astype(np.float32)).double().unsqueeze(1)
                rec = d(xw)[0][:, 0].numpy()
                manual[start:start + 3] = np.abs(x[start:start + 3] - rec).mean(axis=1)
        np.testing.assert_allclose(s, manual, rtol=1e-13)

    def test_float32_close_to_reference(self):
        torch.manual_seed(5)
        m = rm.Prediction("LSTM", 3, 6, 1, 2, [0, 2], state="stateful")
        raw = np.random.default_rng(1).normal(size=(40, 3))
        norm = rs.fit_normalization(raw, "zscore")
        x = rs.normalize(raw, norm)
        out = rs.run_model(m, x)
        U = rs.error_vectors_for_stats(x, "prediction", m.config(), "lstm_ad", out)
        stats = rs.fit_stats(U)
        sc = {"method": "lstm_ad"}
        a, _ = rs.score_series(m, raw, norm, sc, stats)
        b, _ = rs.score_series(m, raw, norm, sc, stats, dtype="float32")
        self.assertLess(rs.score_tolerance_ratio(b, a), 0.1)
        self.assertEqual(int(np.isnan(a).sum()), 2)


class Export(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def p(self, name):
        return os.path.join(self.dir.name, name)

    def test_model_with_scoring(self):
        torch.manual_seed(6)
        m = rm.Reconstruction("GRU", 3, 4, 1, seq_len=5)
        norm = {"method": "zscore", "mean": [1.0, 2.0, 3.0], "std": [1.0, 0.0, 2.0], "features": ["a", "b", "c"]}
        stats = {"mean": np.array([0.1, 0.2, 0.3]), "precision": np.eye(3) * 2, "log_det": -1.5}
        scoring = {"method": "mahalanobis", "pooling": "max", "stride": 2, "ridge": 1e-6, "log_det": -1.5}
        threshold = {"method": "static", "value": 3.25, "calibration": "mean_std_4", "spot": {"q": 1e-3, "level": 0.98}}
        cfg = rx.export_model(m, self.p("m.safetensors"), normalization=norm, scoring=scoring, threshold=threshold,
                              stats=stats, training={"x": 1})
        t, meta = rx.read_safetensors(self.p("m.safetensors"))
        c = json.loads(meta["rnnad.config"])
        self.assertEqual(c, cfg)
        self.assertEqual(set(c), {"format_version", "kind", "producer", "model", "normalization", "scoring", "threshold"})
        self.assertEqual((c["normalization"], c["scoring"], c["threshold"]), (norm, scoring, threshold))
        self.assertEqual(json.loads(meta["rnnad.training"]), {"x": 1})
        self.assertEqual(t["scoring.mean"].dtype, np.float64)
        self.assertEqual(t["scoring.precision"].shape, (3, 3))
        weights = set(t) - {"scoring.mean", "scoring.precision"}
        self.assertEqual(weights, set(rx.expected_model_tensors("reconstruction", m.config())))
        self.assertTrue(all(t[k].dtype == np.float32 for k in weights))
        # without scoring the file is exactly what it was before
        plain = rx.export_model(m, self.p("p.safetensors"))
        self.assertEqual(set(plain), {"format_version", "kind", "producer", "model"})

    def test_rejections(self):
        torch.manual_seed(7)
        rec = rm.Reconstruction("GRU", 2, 3, 1, seq_len=4)
        pw = rm.Prediction("GRU", 2, 3, 1, 2, [0], seq_len=4)
        ps = rm.Prediction("GRU", 2, 3, 1, 2, [0], state="stateful")
        st2 = {"mean": np.zeros(2), "precision": np.eye(2)}
        bad = [
            (rec, {"method": "lstm_ad", "pooling": "mean", "stride": 1, "ridge": 1e-6, "log_det": 0.0}, st2),
            (rec, {"method": "absolute", "stride": 1}, None),                               # pooling missing
            (rec, {"method": "absolute", "pooling": "median", "stride": 1}, None),
            (rec, {"method": "absolute", "pooling": "mean", "stride": 0}, None),
            (rec, {"method": "mahalanobis", "pooling": "mean", "stride": 1, "ridge": 1e-6, "log_det": 0.0}, None),
            (rec, {"method": "absolute", "pooling": "mean", "stride": 1}, st2),              # stats not used
            (pw, {"method": "gaussian_nll", "stride": 1}, None),                              # point output
            (pw, {"method": "lstm_ad", "stride": 2, "ridge": 1e-6, "log_det": 0.0}, st2),
            (pw, {"method": "absolute", "pooling": "mean", "stride": 1}, None),              # pooling on prediction
            (ps, {"method": "absolute", "stride": 1}, None),                                  # stride on stateful
            (ps, {"method": "lstm_ad", "ridge": 1e-6, "log_det": 0.0}, {"mean": np.zeros(3), "precision": np.eye(3)}),
        ]
        for i, (m, scoring, stats) in enumerate(bad):
            with self.assertRaises(ValueError, msg=str(i)):
                rx.export_model(m, self.p("x.safetensors"), scoring=scoring, stats=stats)
        with self.assertRaises(ValueError):
            rx.export_model(rec, self.p("x.safetensors"), normalization={"method": "zscore", "mean": [0.0], "std": [1.0]})
        with self.assertRaises(ValueError):
            rx.export_model(rec, self.p("x.safetensors"),
                            threshold={"method": "static", "value": float("nan"), "calibration": "", "spot": {"q": 1e-3, "level": 0.98}})
        self.assertFalse(os.path.exists(self.p("x.safetensors")))
        rx.export_model(ps, self.p("ok.safetensors"), scoring={"method": "lstm_ad", "ridge": 1e-6, "log_det": 0.0},
                        stats=st2)

    def test_reference_file(self):
        series = np.arange(12.0).reshape(4, 3)
        scores = np.array([np.nan, 1.0, 2.0, np.nan])
        contrib = np.array([[np.nan, np.nan], [0.5, 0.5], [1.5, 0.5], [np.nan, np.nan]])
        rx.write_score_reference(self.p("r.safetensors"), series, scores, contrib, "d", first_row=7)
        t, meta = rx.read_safetensors(self.p("r.safetensors"))
        self.assertEqual(set(t), {"series", "scores", "contributions"})
        self.assertTrue(all(v.dtype == np.float64 for v in t.values()))
        info = json.loads(meta["rnnad.reference"])
        self.assertEqual(set(info), {"format_version", "description", "producer", "first_row"})
        self.assertEqual((info["format_version"], info["first_row"]), (1, 7))
        np.testing.assert_array_equal(t["scores"], scores)
        bad = contrib.copy()
        bad[1, 0] = np.nan
        with self.assertRaises(ValueError):
            rx.write_score_reference(self.p("b.safetensors"), series, scores, bad)


class TrainScript(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def p(self, name):
        return os.path.join(self.dir.name, name)

    def test_read_series(self):
        with open(self.p("nab.csv"), "w") as f:
            f.write("timestamp,temp_c,valve\n2024-05-01T00:00:00Z,20.1,1.0\n2024-05-01T00:01:00Z,20.4,1.0\n")
        raw, names, stamps, fmt = tr.read_series(self.p("nab.csv"))
        self.assertEqual((names, fmt, stamps[1]), (["temp_c", "valve"], "nab", "2024-05-01T00:01:00Z"))
        np.testing.assert_array_equal(raw, [[20.1, 1.0], [20.4, 1.0]])
        with open(self.p("smd.csv"), "w") as f:
            f.write("0.5,0.25,1\n0.125,0,1\n")
        raw, names, stamps, fmt = tr.read_series(self.p("smd.csv"))
        self.assertEqual((names, fmt, stamps), (["m1", "m2", "m3"], "plain", None))
        np.testing.assert_array_equal(raw, [[0.5, 0.25, 1], [0.125, 0, 1]])
        with open(self.p("bad.csv"), "w") as f:
            f.write("timestamp,value\n2024,1.0\n2025,\n")
        with self.assertRaisesRegex(ValueError, "bad.csv:3"):
            tr.read_series(self.p("bad.csv"))

    def test_best_f1_threshold(self):
        s = np.array([0.1, 0.9, 0.2, 0.8, np.nan, 0.3])
        y = np.array([0, 1, 0, 1, 1, 0])
        thr, f1, k = tr.best_f1_threshold(s, y)
        self.assertEqual(k, 2)
        self.assertAlmostEqual(thr, 0.55)
        self.assertAlmostEqual(f1, 2 * 2 / (2 + 3))

    def test_end_to_end(self):
        rng = np.random.default_rng(0)
        t = np.arange(300)
        with open(self.p("s.csv"), "w") as f:
            for a, b in zip(np.sin(t / 5) + 0.1 * rng.normal(size=300), np.cos(t / 7)):
                f.write(f"{a:.6f},{b:.6f},2.5\n")
        out = self.p("m.safetensors")
        with contextlib.redirect_stdout(io.StringIO()):
            tr.main([self.p("s.csv"), "--out", out, "--kind", "prediction", "--state", "stateful", "--horizon", "2",
                     "--scoring", "lstm_ad", "--seq-len", "10", "--hidden", "4", "--epochs", "2",
                     "--reference-rows", "120", "--inject", "spikes,level-shifts,noise-bursts"])
        t_, meta = rx.read_safetensors(out)
        c = json.loads(meta["rnnad.config"])
        self.assertEqual(c["scoring"]["method"], "lstm_ad")
        self.assertEqual(set(c["scoring"]), {"method", "ridge", "log_det"})
        self.assertEqual(c["normalization"]["std"][2], 0.0)
        self.assertEqual(c["threshold"]["calibration"], "max_f1_injected")
        self.assertEqual(t_["scoring.precision"].shape, (6, 6))
        ref, rmeta = rx.read_safetensors(rx.reference_path(out))
        self.assertEqual(ref["series"].shape, (120, 3))
        self.assertEqual(int(np.isnan(ref["scores"]).sum()), 2)
        self.assertEqual(json.loads(rmeta["rnnad.reference"])["first_row"], 0)
        # the scores are reproducible from the exported file alone
        m = rm.from_config(c["kind"], c["model"])
        m.load_state_dict({k: torch.from_numpy(v) for k, v in t_.items() if not k.startswith("scoring.")})
        stats = {"mean": t_["scoring.mean"], "precision": t_["scoring.precision"], "log_det": c["scoring"]["log_det"]}
        s, contrib = rs.score_series(m, ref["series"], c["normalization"], c["scoring"], stats)
        np.testing.assert_array_equal(s, ref["scores"])
        np.testing.assert_array_equal(contrib, ref["contributions"])


class GoldenScoring(unittest.TestCase):
    def test_cases_listed(self):
        listing = os.path.join(GOLDEN, "cases.txt")
        if not os.path.exists(listing):
            self.skipTest("tests/golden/scoring not generated")
        with open(listing) as f:
            names = f.read().split()
        self.assertEqual(names, [c[0] for c in msg.cases()])
        total = 0
        for n in names:
            for suffix in (".safetensors", ".reference.safetensors"):
                total += os.path.getsize(os.path.join(GOLDEN, n + suffix))
        self.assertLess(total, 1_500_000)

    def test_regenerated_cases_equal_committed(self):
        if not os.path.exists(os.path.join(GOLDEN, "cases.txt")):
            self.skipTest("tests/golden/scoring not generated")
        pick = {"recon_mahalanobis_max_s2", "attn_squared_last", "predw_lstm_ad", "preds_gauss_nll"}
        with tempfile.TemporaryDirectory() as d:
            for case in msg.cases():
                if case[0] not in pick:
                    continue
                files, ratio, _ = msg.make_case(d, *case, log=lambda *a: None)
                self.assertLess(ratio, 0.5)
                for f in files:
                    new, new_meta = rx.read_safetensors(f)
                    old, old_meta = rx.read_safetensors(os.path.join(GOLDEN, os.path.basename(f)))
                    key = "rnnad.config" if "rnnad.config" in new_meta else "rnnad.reference"
                    strip = lambda m: {k: v for k, v in json.loads(m[key]).items() if k != "producer"}
                    self.assertEqual(strip(new_meta), strip(old_meta), f)
                    self.assertEqual(set(new), set(old))
                    for k in new:
                        if new[k].dtype == np.float32:
                            np.testing.assert_array_equal(new[k], old[k], err_msg=f"{f}: {k}")
                        else:
                            np.testing.assert_allclose(new[k], old[k], rtol=1e-12, atol=1e-14, err_msg=f"{f}: {k}")

    def test_committed_references_reproduce(self):
        """Every committed reference is reproduced from its model file alone (the engine's job)."""
        listing = os.path.join(GOLDEN, "cases.txt")
        if not os.path.exists(listing):
            self.skipTest("tests/golden/scoring not generated")
        with open(listing) as f:
            names = f.read().split()
        for n in names:
            t, meta = rx.read_safetensors(os.path.join(GOLDEN, n + ".safetensors"))
            c = json.loads(meta["rnnad.config"])
            ref, _ = rx.read_safetensors(os.path.join(GOLDEN, n + ".reference.safetensors"))
            m = rm.from_config(c["kind"], c["model"])
            m.load_state_dict({k: torch.from_numpy(v) for k, v in t.items() if not k.startswith("scoring.")})
            stats = None
            if "scoring.mean" in t:
                stats = {"mean": t["scoring.mean"], "precision": t["scoring.precision"],
                         "log_det": c["scoring"]["log_det"]}
            s, contrib = rs.score_series(m, ref["series"], c["normalization"], c["scoring"], stats)
            np.testing.assert_allclose(s, ref["scores"], rtol=1e-12, atol=1e-13, err_msg=n)
            np.testing.assert_allclose(contrib, ref["contributions"], rtol=1e-12, atol=1e-13, err_msg=n)
            ok = ~np.isnan(s)
            np.testing.assert_allclose(contrib[ok].sum(axis=1), s[ok], rtol=1e-10, atol=1e-12, err_msg=n)


class ShippedModels(unittest.TestCase):
    """models/nab_machine_temp and models/smd_machine-1-7: documented fields only, the reference
    series is the bundled CSV's first rows, and the scores are reproduced from the files alone."""
    MODELS = {"nab_machine_temp": ("machine_temperature_system_failure.csv", 2500, "prediction"),
              "smd_machine-1-7": ("smd_machine-1-7_test_head2500.csv", 2000, "reconstruction")}

    def test_shipped(self):
        root = os.path.join(HERE, "..", "..", "models")
        for name, (csv_name, rows, kind) in self.MODELS.items():
            path = os.path.join(root, name + ".safetensors")
            if not os.path.exists(path):
                self.skipTest(f"{path} not generated")
            t, meta = rx.read_safetensors(path)
            c = json.loads(meta["rnnad.config"])
            self.assertEqual(set(c), {"format_version", "kind", "producer", "model", "normalization", "scoring",
                                      "threshold"})
            self.assertEqual(c["kind"], kind)
            self.assertEqual(c["threshold"]["calibration"], "max_f1_injected")
            self.assertEqual(c["threshold"]["spot"], {"q": 1e-3, "level": 0.98})
            ref, rmeta = rx.read_safetensors(rx.reference_path(path))
            self.assertEqual(json.loads(rmeta["rnnad.reference"])["first_row"], 0)
            raw = tr.read_series(os.path.join(root, "data", csv_name))[0]
            np.testing.assert_array_equal(ref["series"], raw[:rows])
            m = rm.from_config(c["kind"], c["model"])
            m.load_state_dict({k: torch.from_numpy(v) for k, v in t.items() if not k.startswith("scoring.")})
            stats = None
            if "scoring.mean" in t:
                stats = {"mean": t["scoring.mean"], "precision": t["scoring.precision"],
                         "log_det": c["scoring"]["log_det"]}
            s, contrib = rs.score_series(m, ref["series"], c["normalization"], c["scoring"], stats)
            np.testing.assert_allclose(s, ref["scores"], rtol=1e-10, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(contrib, ref["contributions"], rtol=1e-10, atol=1e-12, err_msg=name)


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main()
