"""Row streaming (nets/streaming.py, core/inference/streamed.py): the networks computed strip by strip down the area
give the whole image's values, and compute each row once beyond their steps' radii."""
import dataclasses

import numpy as np
import pytest
import torch
from test_nets import _ArrayReader, build, perturb
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference.streamed import StreamedPredict
from hyperfuse.core.inference.tiling import BlockPlan, WindowPart, run_tiled
from hyperfuse.core.layout import bands_innermost
from hyperfuse.nets.blocks import FusionModel, add_bicubic_upsampling, bicubic_upsample
from hyperfuse.nets.fast_conv import nnpack_ready
from hyperfuse.nets.streaming import HR, LR, RowStream, _rows_joined

# (method, ratio, hyperparameters): every network that streams, at ratios with one and with several prime factors.
STREAMED = [("deepsen3", 3, {"width": 8, "modules": 2}), ("deepsen3", 4, {"width": 8, "modules": 1}),
            ("ssjcn", 3, {"width": 8}), ("ssjcn", 2, {"width": 8, "iterations": 1}),
            ("mhfnet", 3, {"stages": 3, "width": 8}), ("mhfnet", 6, {"stages": 2, "width": 8}),
            # One step each, as wide as the network's halo.
            ("msssfnet", 4, {"width": 8}), ("mlpln", 3, {})]
IDS = [f"{method}-r{ratio}" for method, ratio, _ in STREAMED]


def _model(method_id, ratio, hyper, hs=12, ms=3):
    torch.manual_seed(0)
    model = FusionModel(perturb(build(method_id, hs, ms, ratio, **hyper)), hs, ms).eval()
    # Statistics that differ from band to band: DeepSen3's last step folds them into its last convolution.
    model.set_statistics(np.linspace(0.2, 0.4, hs), np.linspace(0.1, 0.3, hs), np.full(ms, 0.4), np.full(ms, 0.1))
    return model


def _inputs(hs, ms, ratio, lr_rows, lr_cols, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.random((hs, lr_rows, lr_cols)).astype(np.float32),
            rng.random((ms, lr_rows * ratio, lr_cols * ratio)).astype(np.float32))


def _streamed_in_strips(model, stream, lr, hr, cuts):
    """(whole image, the rows ``stream`` gives for the requests between ``cuts``) of ``model`` on (lr, hr). The
    stream reads the inputs channels last, as a fusion gives them (torch_support.network_input), so that its steps
    take their channels-last ways; the whole image is computed on the plain layout."""
    lr_t, hr_t = (torch.from_numpy(a)[None] for a in (lr, hr))
    with torch.inference_mode():
        whole = model(lr_t, hr_t)
        window = {name: tensor.contiguous(memory_format=torch.channels_last)
                  for name, tensor in zip((LR, HR), model.standardised(lr_t, hr_t))}
        streamed = torch.cat([stream.rows("columns", window, 0, first, stop, next_first=stop).clone()
                              for first, stop in zip(cuts, cuts[1:])], dim=2)
    return whole, streamed


@pytest.mark.parametrize("method_id, ratio, hyper", STREAMED, ids=IDS)
def test_rows_streamed_in_uneven_strips_equal_the_whole_image(method_id, ratio, hyper):
    model = _model(method_id, ratio, hyper)
    lr, hr = _inputs(12, 3, ratio, 36, 14)
    rows = hr.shape[1]
    computed = {}
    stages = model.row_stages(ratio)
    for stage in stages:            # count the rows each step computes
        def counting(*inputs, run=stage.run, name=stage.outputs[0], **into):
            computed[name] = computed.get(name, 0) + inputs[0].shape[2]
            return run(*inputs, **into)
        object.__setattr__(stage, "run", counting)
    stream = RowStream(stages, model.alignment(ratio), ratio, rows)
    cuts = [0, 5, 2 * ratio + 7, rows // 2, rows // 2 + 1, rows - 3, rows]
    whole, streamed = _streamed_in_strips(model, stream, lr, hr, cuts)
    assert torch.abs(streamed - whole).max() <= 1e-5 * torch.abs(whole).max()
    # Each step computed every row once, and at most its own radius above and below each of the requests.
    for stage, radius in zip(stream.stages, stream.radii):
        assert computed[stage.outputs[0]] <= rows + 2 * (radius + stream.step) * (len(cuts) - 1)
    # What the stream holds between requests does not grow with the area: the next request's rows and the reach.
    held = max(tensor.shape[2] for _, tensor in stream.buffers.values())
    assert held <= stream.reach + stream.step


@pytest.mark.parametrize("method_id, ratio, hyper", STREAMED, ids=IDS)
@pytest.mark.parametrize("margin_lr", [0, 2], ids=["network alone", "with a projection's halo"])
def test_a_streamed_tiled_run_equals_the_whole_image(method_id, ratio, hyper, margin_lr):
    """Blocks of several columns of blocks, taken down each column; the rows of a ``margin`` around each block (the
    projection's halo, which reads them) are the whole image's too."""
    model = _model(method_id, ratio, hyper)
    lr, hr = _inputs(12, 3, ratio, 30, 20)
    with torch.inference_mode():
        whole = model(torch.from_numpy(lr)[None], torch.from_numpy(hr)[None])[0].numpy()
    margin = margin_lr * ratio
    predict = StreamedPredict(model, torch.device("cpu"), ratio, hr.shape[1], margin)
    tiled, around = np.full_like(whole, np.nan), []
    step = model.alignment(ratio)

    def checked(lr_b, lr_v, hr_b, hr_v, centre=None, origin=None):
        part = predict(lr_b, lr_v, hr_b, hr_v, centre=centre, origin=origin)
        top, left = origin
        # The result is the block and the margin around it, inside the window.
        rows = slice(max(0, centre[0] - margin), min(hr_b.shape[1], centre[0] + centre[2] + margin))
        cols = slice(max(0, centre[1] - margin), min(hr_b.shape[2], centre[1] + centre[3] + margin))
        assert isinstance(part, WindowPart)
        assert (part.row0, part.col0, part.values.shape[1:]) == (rows.start, cols.start,
                                                                  (rows.stop - rows.start, cols.stop - cols.start))
        assert part.values.flags.c_contiguous or bands_innermost(part.values)
        around.append(np.abs(part.values - whole[:, top + rows.start:top + rows.stop,
                                                 left + cols.start:left + cols.stop]).max())
        # The rows are the caller's to overwrite, as a projection does: the stream holds none of them.
        kept = part.values.copy(order="K")
        part.values[...] = -1.0
        return WindowPart(kept, part.row0, part.col0)
    checked.takes_centre = True

    def sink(values, valid, row0, col0):
        tiled[:, row0:row0 + values.shape[1], col0:col0 + values.shape[2]] = values

    block = (2 * step, 8 * step)
    blocks = run_tiled(_ArrayReader(lr, hr, ratio), checked, sink, predict.halo, block, Feedback(),
                       alignment=step, by_columns=True)
    assert blocks >= 4
    assert np.abs(tiled - whole).max() <= 1e-5 * np.abs(whole).max()
    assert max(around) <= 1e-5 * np.abs(whole).max()


def test_a_stream_starts_afresh_for_other_columns_or_rows_it_let_go_of():
    model = _model("deepsen3", 3, {"width": 8, "modules": 1})
    lr, hr = _inputs(12, 3, 3, 20, 10)
    lr_t, hr_t = (torch.from_numpy(a)[None] for a in (lr, hr))
    stream = RowStream(model.row_stages(3), model.alignment(3), 3, hr.shape[1])
    with torch.inference_mode():
        whole = model(lr_t, hr_t)
        window = dict(zip((LR, HR), model.standardised(lr_t, hr_t)))
        for key, first, stop in (("a", 0, 30), ("a", 30, 45), ("b", 30, 60), ("b", 3, 9), ("b", 9, 60)):
            rows = stream.rows(key, window, 0, first, stop, next_first=stop)
            assert torch.abs(rows - whole[:, :, first:stop]).max() <= 1e-5 * torch.abs(whole).max()


def test_the_first_request_keeps_its_rows_for_the_first_block():
    """The trial that sizes the blocks computes a first strip (tiling.working_memory); the first block takes its rows
    up instead of computing them again."""
    model = _model("deepsen3", 3, {"width": 8, "modules": 1})
    lr, hr = _inputs(12, 3, 3, 30, 10)
    valid_lr, valid_hr = np.ones(lr.shape[1:], bool), np.ones(hr.shape[1:], bool)
    with torch.inference_mode():
        whole = model(torch.from_numpy(lr)[None], torch.from_numpy(hr)[None])[0].numpy()

    def counting_predict():
        computed, stages = [], model.row_stages(3)
        for stage in stages:
            object.__setattr__(stage, "run", lambda *inputs, run=stage.run, **into: computed.append(inputs[0].shape[2])
                               or run(*inputs, **into))
        predict = StreamedPredict(model, torch.device("cpu"), 3, hr.shape[1], 6)
        predict.stream = RowStream(stages, 3, 3, hr.shape[1])
        return predict, computed

    predict, computed = counting_predict()
    trial = predict(lr[:, :20], valid_lr[:20], hr[:, :60], valid_hr[:60], centre=(0, 0, 12, 30), origin=(0, 0))
    del computed[:]
    block = predict(lr, valid_lr, hr, valid_hr, centre=(0, 0, 48, 30), origin=(0, 0))
    assert (trial.row0, trial.col0, trial.values.shape[1]) == (0, 0, 18)
    assert (block.row0, block.col0, block.values.shape[1]) == (0, 0, 54)
    assert np.abs(trial.values - whole[:, :18]).max() <= 1e-5 * np.abs(whole).max()
    assert np.abs(block.values - whole[:, :54]).max() <= 1e-5 * np.abs(whole).max()
    fresh, fresh_computed = counting_predict()
    fresh(lr, valid_lr, hr, valid_hr, centre=(0, 0, 48, 30), origin=(0, 0))
    # Each step computed only the rows beyond the trial's: LR rows 18 … 24, not 0 … 24, for the bicubic step.
    assert computed[0] < fresh_computed[0] and sum(computed) < sum(fresh_computed)


def test_a_network_fusion_streams_its_automatic_blocks_and_computes_a_narrower_block_size_whole(small_pair, tmp_path,
                                                                                                 monkeypatch):
    from helpers import save_random_weights
    from hyperfuse.core import registry
    from hyperfuse.core.inference import fusion, tiling
    from hyperfuse.core.inference.fusion import MODEL_WEIGHTS, NetworkFusionSettings
    from hyperfuse.core.storage.raster_io import open_raster, read_raster

    weights = str(tmp_path / "w.pt")
    model = save_random_weights(weights, open_raster(small_pair["lr"]).count, open_raster(small_pair["ms"]).count, 3)
    lr, _ = read_raster(open_raster(small_pair["lr"]))
    ms, _ = read_raster(open_raster(small_pair["ms"]))
    with torch.inference_mode():
        whole = model(torch.from_numpy(lr)[None], torch.from_numpy(ms)[None])[0].numpy()
    # A budget small enough for several strips of the 72 × 72 pair, with the working memory measured by a trial: the
    # trial runs, and its peak is taken as 10 MiB, since the resident size of so small a computation moves by whole
    # huge pages from run to run.
    monkeypatch.setattr(tiling, "BLOCK_MEMORY_BYTES", 12 * 2 ** 20)
    monkeypatch.setattr(tiling.WorkingMemory, "bytes_for", lambda self, window, block: 2 ** 40)
    monkeypatch.setattr(tiling, "peak_bytes_during", lambda function: (function(), 10 * 2 ** 20))
    logs = {}
    narrow = tiling.automatic_block_shape
    for case, block_size in (("strips", 0), ("columns", 0), ("set", 24)):
        if case == "columns":
            # Automatic blocks narrower than the area: streamed down each column of blocks.
            monkeypatch.setattr(tiling, "automatic_block_shape", lambda *args, **kwargs: (24, 36))
        feedback = Feedback()
        out = str(tmp_path / f"fused_{case}.tif")
        result = fusion.fuse_with_network(registry.method("deepsen3"), small_pair["lr"], small_pair["ms"], out,
                                          feedback=feedback, settings=NetworkFusionSettings(
                                              model=MODEL_WEIGHTS, weights_path=weights, block_size=block_size,
                                              projection="none"))
        monkeypatch.setattr(tiling, "automatic_block_shape", narrow)
        logs[case] = feedback.messages
        assert result.blocks > 1
        fused, _ = read_raster(open_raster(out))
        assert np.abs(fused - whole).max() <= 1e-5 * np.abs(whole).max()
    assert any("(strips the width of the area)" in line and "streamed" in line for line in logs["strips"])
    assert any("Blocks of 36 × 24 HR pixels" in line and "streamed down each column of blocks" in line
               for line in logs["columns"])
    assert not any("computed whole" in line for line in logs["strips"] + logs["columns"])
    assert any("computed whole, with the network's halo" in line for line in logs["set"])


@pytest.mark.parametrize("method_id, ratio, hyper", STREAMED[:3] + STREAMED[4:5], ids=IDS[:3] + IDS[4:5])
def test_the_rows_held_between_blocks_are_known_before_they_are_let_go_of(method_id, ratio, hyper):
    """What the trial reports as held between blocks (RowStream.held_bytes, on a stream that kept every row) is what a
    stream keeps once it lets go of the rows the next block will not read."""
    model = _model(method_id, ratio, hyper)
    lr, hr = _inputs(12, 3, ratio, 40, 10)
    step = model.alignment(ratio)
    stop = hr.shape[1] // 2 // step * step
    lr_t, hr_t = (torch.from_numpy(a)[None] for a in (lr, hr))
    with torch.inference_mode():
        window = dict(zip((LR, HR), model.standardised(lr_t, hr_t)))
        kept = RowStream(model.row_stages(ratio), step, ratio, hr.shape[1])
        kept.rows("columns", window, 0, 0, stop)
        let_go = RowStream(model.row_stages(ratio), step, ratio, hr.shape[1])
        let_go.rows("columns", window, 0, 0, stop, next_first=stop - 6)
    held = sum(tensor.element_size() * tensor.numel() for _, tensor in let_go.buffers.values())
    assert 0 < kept.held_bytes(stop - 6, stop) == held
    assert held < sum(tensor.element_size() * tensor.numel() for _, tensor in kept.buffers.values())


@pytest.mark.parametrize("lr_rows", [35, 5], ids=["rows not a multiple of the alignment", "fewer rows than a radius"])
def test_areas_of_any_height_stream_exactly(lr_rows):
    model = _model("ssjcn", 3, {"width": 8})            # aligned on 12 HR rows, 36 rows per iteration
    lr, hr = _inputs(12, 3, 3, lr_rows, 9)
    rows = hr.shape[1]
    stream = RowStream(model.row_stages(3), model.alignment(3), 3, rows)
    whole, streamed = _streamed_in_strips(model, stream, lr, hr, sorted({0, min(rows, 13), min(rows, 40), rows}))
    assert torch.abs(streamed - whole).max() <= 1e-5 * torch.abs(whole).max()


def test_a_step_aligned_on_single_rows_recomputes_only_its_own_radius_around_each_strip():
    """SSJCN's correction steps (RB on the HS bands) have no strided layer: around a strip of 24 rows each computes
    its radius of 5 rows, not the 36 of the features before it, which are aligned on 12."""
    model = _model("ssjcn", 3, {"width": 8})
    lr, hr = _inputs(12, 3, 3, 40, 9)
    rows = hr.shape[1]
    computed = {}

    def counted(stage):
        def run(*inputs):
            computed[stage.outputs[0]] = computed.get(stage.outputs[0], 0) + inputs[-1].shape[2]
            return stage.run(*inputs)
        return dataclasses.replace(stage, run=run)

    stages = [counted(stage) for stage in model.row_stages(3)]
    assert [stage.radius for stage in stages[1::2]] == [6, 5]         # Z¹ also reads the LR-HSI for Z⁰, on 3 rows
    stream = RowStream(stages, model.alignment(3), 3, rows)
    cuts = list(range(0, rows + 1, 24))
    whole, streamed = _streamed_in_strips(model, stream, lr, hr, cuts)
    assert torch.abs(streamed - whole).max() <= 1e-5 * torch.abs(whole).max()
    strips = len(cuts) - 1
    assert computed["z2"] <= rows + 2 * 5 * strips
    assert computed["e2"] > rows + 36 * (strips - 1)                  # aligned on 12: its 28 rounded up to 36


def test_a_step_must_be_aligned_on_a_divisor_of_the_network_and_read_the_lr_hsi_on_whole_lr_pixels():
    stages = _model("ssjcn", 3, {"width": 8}).row_stages(3)
    with pytest.raises(ValueError, match="aligned on 5 HR rows in a network aligned on 12"):
        RowStream([dataclasses.replace(stages[0], step=5)] + stages[1:], 12, 3, 120)
    with pytest.raises(ValueError, match="aligned on 4 HR rows"):
        RowStream([dataclasses.replace(stages[0], step=4)] + stages[1:], 12, 3, 120)


def test_the_trial_that_sizes_the_blocks_measures_the_rows_a_stream_holds_between_them():
    from hyperfuse.core.inference.tiling import working_memory

    model = _model("deepsen3", 3, {"width": 8, "modules": 2})
    lr, hr = _inputs(12, 3, 3, 100, 100)            # 300² HR: the trial is a strip of 144 rows at the top
    predict = StreamedPredict(model, torch.device("cpu"), 3, hr.shape[1], 6)
    assert predict.held_per_column() == 0
    # A budget of 1 MB, so that the rule of thumb does not find the whole area small enough to skip the trial.
    reader = _ArrayReader(lr, hr, 3)
    reader.bands = lr.shape[0] + hr.shape[0]
    memory = working_memory(reader, predict, predict.halo, 3, 4 * 2 ** 20, streamed=True)
    assert memory.measured_on == (144 + predict.halo) * 300
    assert memory.per_held_column == predict.held_per_column() > 0
    # What the next block down the column reads again: the output's rows of the projection's halo above it, and
    # the rows the other steps read there, 8 channels each.
    assert 2 * 6 * 12 * 4 < memory.per_held_column < 60 * (12 + 8) * 4
    assert "per column held between blocks" in memory.describe()


def test_the_centre_of_a_part_that_is_the_blocks_own_goes_to_the_sink_without_a_copy():
    """A streamed network's part (or a projected one) belongs to its block alone: the sink gets a view of its
    centre. Any other result is copied, so that the window's result can be freed while the block is written."""
    plan = BlockPlan(area=(48, 48), shape=(24, 24), halo=6, step=3, ratio=3)
    block = (24, 24, 24, 24)
    top, left, rows, cols = plan.window(block)
    values = np.random.default_rng(5).random((2, rows, cols)).astype(np.float32)
    lr_valid, hr_valid = np.ones((rows // 3, cols // 3), bool), np.ones((rows, cols), bool)
    expected = values[:, 24 - top:48 - top, 24 - left:48 - left]
    own, valid = plan.centre(block, WindowPart(values, 0, 0, own=True), lr_valid, hr_valid)
    assert np.shares_memory(own, values) and np.array_equal(own, expected) and valid.all()
    for result in (WindowPart(values, 0, 0), values):
        copied, _ = plan.centre(block, result, lr_valid, hr_valid)
        assert not np.shares_memory(copied, values) and np.array_equal(copied, expected)


def test_rows_joined_are_those_of_torch_cat_in_memory_of_their_own():
    """Rows kept by a stream and rows cut from a wider channels-last output join as torch.cat joins them, channels
    last, in memory shared with neither."""
    wide = torch.randn(1, 5, 7, 12).contiguous(memory_format=torch.channels_last)
    held = torch.randn(1, 5, 3, 9).contiguous(memory_format=torch.channels_last)
    fresh = wide[:, :, :, 2:11]
    joined = _rows_joined(held, fresh)
    assert torch.equal(joined, torch.cat([held, fresh], dim=2))
    assert joined.is_contiguous(memory_format=torch.channels_last)
    alone = _rows_joined(fresh)
    assert torch.equal(alone, fresh) and alone.is_contiguous(memory_format=torch.channels_last)
    assert alone.untyped_storage().data_ptr() != wide.untyped_storage().data_ptr()
    by_band = torch.randn(1, 5, 3, 9)
    assert torch.equal(_rows_joined(by_band, by_band), torch.cat([by_band, by_band], dim=2))


@pytest.mark.skipif(not nnpack_ready(), reason="this torch build has no NNPACK")
def test_deepsen3s_last_step_through_nnpack_writes_the_whole_images_rows_into_the_stream(monkeypatch):
    """At the bundled models' width, DeepSen3's reconstruction runs through NNPACK and writes the rows the stream
    keeps itself (streaming.OutputRows): a tiled run with a projection's halo still gives the whole image, within
    float32 rounding, as it does with NNPACK's path turned off."""
    torch.manual_seed(0)
    hs, ms, ratio = 36, 3, 3
    model = FusionModel(perturb(build("deepsen3", hs, ms, ratio, modules=1)), hs, ms).eval()
    model.set_statistics(np.linspace(0.2, 0.4, hs), np.linspace(0.1, 0.3, hs), np.full(ms, 0.4), np.full(ms, 0.1))
    lr, hr = _inputs(hs, ms, ratio, 24, 18)
    with torch.inference_mode():
        whole = model(torch.from_numpy(lr)[None], torch.from_numpy(hr)[None])[0].numpy()
    by_band = []
    original = type(model.net)._reconstructed_by_band
    monkeypatch.setattr(type(model.net), "_reconstructed_by_band",
                        lambda *args: by_band.append(args[-1]) or original(*args))

    def tiled_run():
        predict = StreamedPredict(model, torch.device("cpu"), ratio, hr.shape[1], 2 * ratio)
        tiled = np.full_like(whole, np.nan)

        def sink(values, valid, row0, col0):
            tiled[:, row0:row0 + values.shape[1], col0:col0 + values.shape[2]] = values
        run_tiled(_ArrayReader(lr, hr, ratio), predict, sink, predict.halo, (6 * ratio, 8 * ratio), Feedback(),
                  alignment=ratio, by_columns=True)
        return tiled

    fast = tiled_run()
    assert len(by_band) >= 6 and any(into.row0 and into.col0 for into in by_band)
    monkeypatch.setattr(type(model.net), "_reconstructs_by_band", lambda *args: False)
    plain = tiled_run()
    scale = np.abs(whole).max()
    assert np.abs(plain - whole).max() <= 1e-5 * scale
    assert np.abs(fast - whole).max() <= 2e-5 * scale
    assert not np.array_equal(fast, plain)        # NNPACK did compute the reconstruction


@pytest.mark.parametrize("offset, size", [((0, 0), (12, 15)), ((2, 1), (9, 12)), ((3, 4), (6, 3))])
def test_the_bicubic_skip_added_to_a_part_is_the_whole_up_samplings_part(offset, size):
    lr = torch.from_numpy(_inputs(5, 3, 3, 7, 9)[0])[None]
    whole = bicubic_upsample(lr, 3)
    rows, cols = (offset[0] * 3, offset[0] * 3 + size[0]), (offset[1] * 3, offset[1] * 3 + size[1])
    for layout in (torch.contiguous_format, torch.channels_last):
        out = torch.ones(1, 5, *size).contiguous(memory_format=layout)
        with torch.inference_mode():
            added = add_bicubic_upsampling(out.clone(), lr, 3, offset)
        assert torch.allclose(added, 1 + whole[:, :, rows[0]:rows[1], cols[0]:cols[1]], atol=1e-6)
