"""Every registered model builds by name, classifies, and learns a fixed small batch."""
import sys

import pytest
import torch

from model.registry import create_model, model_names


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match="(?s)unknown model .alexnet2.*alexnet-rmsnorm"):
        create_model("alexnet2", num_classes=10)


def test_unknown_alexnet_option_is_named():
    with pytest.raises(ValueError, match="no option.*'width'"):
        create_model("alexnet", num_classes=10, width=2)


@pytest.mark.parametrize("name", ["alexnet", "mlp", "conv1"])
def test_one_class_is_refused(name):
    with pytest.raises(ValueError, match="at least 2"):
        create_model(name, num_classes=1)


def test_variants_differ_from_the_paper_where_named():
    layers = lambda name: {type(m).__name__ for m in create_model(name, 10).modules()}
    assert "LocalResponseNorm" in layers("alexnet")
    assert "LocalResponseNorm" not in layers("alexnet-nolrn")
    assert "ChannelRMSNorm" in layers("alexnet-rmsnorm")
    assert "MaxPool2d" not in layers("alexnet-strideconv")
    assert "Dropout" in layers("alexnet") and all(
        m.p == 0 for m in create_model("alexnet-nodropout", 10).modules() if isinstance(m, torch.nn.Dropout)
    )


@pytest.mark.parametrize("name", model_names())
def test_model_drives_the_loss_down_on_a_fixed_batch(name):
    torch.manual_seed(0)
    # Without dropout the loss of a fixed batch is a deterministic function of the weights.
    # He init (fc8 at zero, so the first loss is ln 4) and a small Adam step: the paper's
    # N(0, 0.01) init needs many steps to move.
    alexnet = name.startswith("alexnet")
    model = create_model(name, num_classes=4, dropout=0.0, **({"init": "kaiming"} if alexnet else {}))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4 if alexnet or name == "torchvision" else 1e-3)
    images = torch.randn(8, 3, 64, 64)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    losses = []
    for _ in range(10):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0], losses


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
