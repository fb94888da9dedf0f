"""The registered networks: thesis parameter counts, shapes, and the errors a user can act on."""

import pytest
import torch

from pipeline.errors import ConfigError
from pipeline.models import (
    MODEL_INPUTS,
    MODELS,
    Cnn2d,
    CnnLstm,
    SEResNet,
    build_model,
    count_parameters,
)

SHAPES = {"lightcurve": (1, 360), "dmdt": (5, 11, 22), "folded": (1, 512), "lc_dmdt": (2, 22, 24), "sequence": (40, 3),
          "sequence_lc_dmdt": (40, 3)}
#: The second input of the models on ``sequence_lc_dmdt``: a dm-dt image beside the sequence.
IMAGE_SHAPE = (2, 22, 24)


def test_cnn_lstm_has_thesis_parameter_count():
    assert count_parameters(build_model("cnn_lstm", 10, (1, 360))) == 1_360_778


def test_cnn2d_has_thesis_parameter_count():
    assert count_parameters(build_model("cnn2d", 10, (2, 11, 22))) == 5_816_650


def test_registry_and_inputs_agree():
    assert set(MODELS) == set(MODEL_INPUTS) == {"cnn_lstm", "cnn_lstm_faithful", "cnn2d", "cnn_lstm_features",
                                                "cnn2d_features", "cnn1d_folded", "cnn2d_mahabal", "bigru_features",
                                                "compound_rnn_cnn", "se_resnet", "se_resnet_features", "se_resnet_mahabal"}
    assert set(MODEL_INPUTS.values()) == {"lightcurve", "dmdt", "folded", "lc_dmdt", "sequence", "sequence_lc_dmdt"}
    assert MODELS["cnn_lstm"] is CnnLstm and MODELS["cnn2d"] is Cnn2d
    for name, cls in MODELS.items():  # the compound network reads bigru_features's numbers too
        assert cls.uses_features == (name.endswith("_features") or name == "compound_rnn_cnn")


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("n_classes", [5, 10])
def test_output_shapes(name, n_classes):
    shape = SHAPES[MODEL_INPUTS[name]]
    two_inputs = MODEL_INPUTS[name] == "sequence_lc_dmdt"
    model = build_model(name, n_classes, shape, n_features=4, image_shape=IMAGE_SHAPE if two_inputs else None).eval()
    x = torch.randn(3, *shape)
    if MODEL_INPUTS[name] in ("sequence", "sequence_lc_dmdt"):
        x[..., 2] = x[..., 2].abs() + 0.01  # errors are positive; a zero row would be padding
    images = (torch.rand(3, *IMAGE_SHAPE) * 255,) if two_inputs else ()
    with torch.no_grad():
        out = model(x, torch.randn(3, 4), *images)
    assert out.shape == (3, n_classes)
    assert torch.isfinite(out).all()


def test_plain_models_ignore_features():
    model = build_model("cnn_lstm", 5, (1, 360), n_features=7).eval()
    x = torch.randn(2, 1, 360)
    with torch.no_grad():
        assert torch.equal(model(x), model(x, torch.randn(2, 3)))


def test_feature_models_reuse_backbones_and_add_a_branch():
    plain = build_model("cnn2d", 5, (2, 11, 22))
    with_features = build_model("cnn2d_features", 5, (2, 11, 22), n_features=6)
    assert type(with_features.encoder) is type(plain.encoder)
    assert count_parameters(with_features.encoder) == count_parameters(plain.encoder)
    # the head widens by the branch's 64 outputs; the branch reads 6 values + 6 missing indicators:
    # 12*64+64 + 64*64+64
    branch = 12 * 64 + 64 + 64 * 64 + 64
    assert count_parameters(with_features) - count_parameters(plain) == branch + 64 * 1024


def test_cnn2d_flat_size_follows_input_shape():
    model = build_model("cnn2d", 3, (1, 26, 26)).eval()
    assert model.encoder.out_features == 256 * 6 * 6
    with torch.no_grad():
        assert model(torch.randn(2, 1, 26, 26)).shape == (2, 3)


def test_cnn_lstm_runs_on_other_lengths():
    model = build_model("cnn_lstm", 4, (1, 200)).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 200)).shape == (2, 4)


def test_unknown_model_lists_known_names():
    with pytest.raises(ConfigError, match="unknown model 'resnet'.*cnn_lstm.*cnn2d"):
        build_model("resnet", 5, (1, 360))


@pytest.mark.parametrize(
    "name, shape, expected",
    [
        ("cnn_lstm", (360,), r"\(1, length\)"),
        ("cnn_lstm", (2, 360), r"\(1, length\)"),
        ("cnn_lstm_features", (1, 11, 22), r"\(1, length\)"),
        ("cnn2d", (11, 22), r"\(channels, n_dm, n_dt\)"),
        ("cnn2d", (1, 360), r"\(channels, n_dm, n_dt\)"),
        ("cnn2d_features", (2, 2, 22), r"\(channels, n_dm, n_dt\)"),
        ("cnn1d_folded", (1, 8), r"\(1, length\) with length >= 16"),
        ("cnn2d_mahabal", (22, 24), r"\(channels, n_dm, n_dt\)"),
    ],
)
def test_bad_input_shape_says_what_was_expected(name, shape, expected):
    with pytest.raises(ConfigError, match=expected):
        build_model(name, 5, shape, n_features=3)


def test_feature_models_need_n_features():
    with pytest.raises(ConfigError, match="n_features must be >= 1"):
        build_model("cnn_lstm_features", 5, (1, 360))


def test_too_few_classes():
    with pytest.raises(ConfigError, match="at least 2 classes"):
        build_model("cnn2d", 1, (2, 11, 22))


@pytest.mark.parametrize("name", ["cnn_lstm_features", "cnn2d_features"])
def test_feature_models_require_features(name):
    shape = SHAPES[MODEL_INPUTS[name]]
    model = build_model(name, 5, shape, n_features=4)
    x = torch.randn(2, *shape)
    with pytest.raises(ConfigError, match="needs a features tensor"):
        model(x)
    with pytest.raises(ConfigError, match=r"expected features of shape \(batch, 4\)"):
        model(x, torch.randn(2, 3))


def test_input_and_feature_scaling_standardise_and_are_saved():
    model = build_model("cnn_lstm_features", 3, (1, 360), n_features=2)
    feats = torch.tensor([[1.0, 5.0], [3.0, 5.0]])
    x = torch.full((2, 1, 360), 16.0)
    x[1] += 2.0
    model.set_scaling(x, feats)
    # values, then their missing indicators (all 0 here)
    assert torch.allclose(model.branch.scaling.mean, torch.tensor([2.0, 5.0, 0.0, 0.0]))
    assert torch.allclose(model.branch.scaling.scale, torch.tensor([1.0, 1.0, 1.0, 1.0]))  # constant column keeps 1
    assert model.input_scaling.mean.item() == pytest.approx(17.0)
    assert model.input_scaling.scale.item() == pytest.approx(1.0)
    assert torch.allclose(model.input_scaling(x).mean(), torch.tensor(0.0))
    state = model.state_dict()
    assert {"branch.scaling.mean", "branch.scaling.scale", "branch.impute.median", "input_scaling.mean",
            "input_scaling.scale"} <= set(state)


def test_missing_features_take_the_training_median_and_an_indicator():
    model = build_model("cnn2d_features", 3, (2, 11, 22), n_features=2)
    train = torch.tensor([[1.0, float("nan")], [3.0, 4.0], [5.0, 10.0], [7.0, float("nan")]])
    model.set_scaling(torch.rand(4, 2, 11, 22), train)
    assert torch.allclose(model.branch.impute.median, torch.tensor([3.0, 4.0]))  # torch's lower median
    filled = model.branch.impute(torch.tensor([[2.0, float("nan")], [float("nan"), 6.0]]))
    assert torch.equal(filled, torch.tensor([[2.0, 4.0, 0.0, 1.0], [3.0, 6.0, 1.0, 0.0]]))
    # the indicator column is standardised like the others: half the training stars lack feature 2
    assert model.branch.scaling.mean[3].item() == pytest.approx(0.5)
    with torch.no_grad():
        out = model.eval()(torch.rand(2, 2, 11, 22), torch.tensor([[float("nan")] * 2, [1.0, 2.0]]))
    assert torch.isfinite(out).all()


def test_faithful_cnn_lstm_is_the_thesis_code_setting():
    faithful = build_model("cnn_lstm_faithful", 10, (1, 360))
    assert count_parameters(faithful) == 1_360_778
    h = faithful.encoder.lstm1.hidden_size
    assert not torch.all(faithful.encoder.lstm1.bias_ih_l0[h : 2 * h] == 1)  # PyTorch's default init
    x = torch.full((2, 1, 360), 16.0)
    faithful.set_scaling(x)
    assert torch.equal(faithful.input_scaling(x), x)  # raw magnitudes
    from pipeline.models import model_choices
    assert any("raw magnitudes" in c for c in model_choices("cnn_lstm_faithful"))
    assert any("Keras" in c for c in model_choices("cnn_lstm"))
    assert any("median" in c for c in model_choices("cnn2d_features"))


def test_lstms_start_with_keras_initialisation():
    encoder = build_model("cnn_lstm", 5, (1, 360)).encoder
    for lstm in (encoder.lstm1, encoder.lstm2):
        h = lstm.hidden_size
        assert torch.all(lstm.bias_ih_l0[h : 2 * h] == 1) and torch.all(lstm.bias_hh_l0 == 0)
        w = lstm.weight_hh_l0[:h]
        assert torch.allclose(w @ w.T, torch.eye(h), atol=1e-4)


def test_se_resnet_parameter_count_for_a_thesis_image():
    assert count_parameters(build_model("se_resnet", 5, (2, 11, 22))) == 2_277_493


def test_se_resnet_on_mahabal_images_is_the_same_network():
    from pipeline.models import model_choices
    # one band instead of two drops 32 * 9 stem weights; 8 classes instead of 5 add 3 * (512 + 1) to the head
    mahabal = build_model("se_resnet_mahabal", 8, (1, 22, 24))
    assert count_parameters(mahabal) == 2_277_493 - 32 * 9 + 3 * 513 == 2_278_744
    assert type(mahabal.encoder) is type(build_model("se_resnet", 5, (2, 11, 22)).encoder)
    assert model_choices("se_resnet_mahabal")[:-1] == model_choices("se_resnet")
    assert "Mahabal" in model_choices("se_resnet_mahabal")[-1]
    assert MODEL_INPUTS["se_resnet_mahabal"] == "lc_dmdt"


def test_se_ratio_sizes_the_excitation_layers():
    # each SE block on c channels holds c*(c/r) + c/r + (c/r)*c + c weights; units have 4C = 128, 128, 256,
    # 256, 512, 512 channels, so halving r (16 -> 8) adds 2*c*c/16 + c/16 per block
    added = sum(2 * c * c // 16 + c // 16 for c in (128, 128, 256, 256, 512, 512))
    assert count_parameters(SEResNet(5, (2, 11, 22), se_ratio=8)) - count_parameters(SEResNet(5, (2, 11, 22))) == added


@pytest.mark.parametrize("shape", [(2, 11, 22), (3, 23, 24), (1, 26, 26), (4, 4, 4)])
def test_se_resnet_takes_any_dmdt_image(shape):
    model = build_model("se_resnet", 3, shape).eval()
    with torch.no_grad():
        out = model(torch.randn(2, *shape))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
    assert model.encoder.out_features == 512  # global average pooling: the width does not follow the image


@pytest.mark.parametrize("name", ["se_resnet", "se_resnet_features"])
def test_one_training_step_lowers_the_loss(name):
    torch.manual_seed(0)
    model = build_model(name, 3, (2, 23, 24), n_features=2).train()
    x, feats, y = torch.randn(12, 2, 23, 24), torch.randn(12, 2), torch.arange(12) % 3
    model.set_scaling(x, feats)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = torch.nn.functional.cross_entropy(model(x, feats), y)
    optimiser.zero_grad()
    before.backward()
    optimiser.step()
    after = torch.nn.functional.cross_entropy(model(x, feats), y)
    assert after.item() < before.item()


def test_se_resnet_records_how_it_scales_the_paper():
    from pipeline.models import model_choices

    choices = " ".join(model_choices("se_resnet"))
    assert "widths 32/64/128" in choices and "r = 16" in choices
    assert "1024-512" not in model_choices("se_resnet")[0]  # its head is the paper's single Linear layer
