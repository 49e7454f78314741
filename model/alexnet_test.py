"""AlexNet matches the paper: shapes, parameter counts, initialisation and input checks."""
import sys

import pytest
import torch

from model.alexnet import AlexNet, AlexNetConfig


@pytest.fixture(scope="module")
def paper_net() -> AlexNet:
    torch.manual_seed(0)
    return AlexNet(AlexNetConfig(num_classes=1000)).eval()


@pytest.mark.parametrize("size", [224, 227])
def test_logits_have_one_score_per_class_at_224_and_227(paper_net, size):
    with torch.no_grad():
        assert paper_net(torch.zeros(2, 3, size, size)).shape == (2, 1000)


def test_conv1_gives_55x55_at_224_as_in_the_paper(paper_net):
    with torch.no_grad():
        assert paper_net.features[0](torch.zeros(1, 3, 224, 224)).shape == (1, 96, 55, 55)


@pytest.mark.parametrize("size", [224, 227])
def test_fc6_sees_6x6x256_at_both_input_sizes(paper_net, size):
    with torch.no_grad():
        assert paper_net.features(torch.zeros(1, 3, size, size)).shape == (1, 256, 6, 6)


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_two_tower_parameter_count_matches_the_paper(paper_net):
    assert count(paper_net) == 60_965_224


def test_single_tower_parameter_count():
    assert count(AlexNet(AlexNetConfig(towers=1))) == 62_378_344


def test_two_towers_split_conv2_conv4_conv5_but_not_conv3(paper_net):
    assert [c.groups for c in paper_net.convs()] == [1, 2, 1, 2, 2]


def test_weights_are_drawn_from_a_normal_with_std_001(paper_net):
    for layer in paper_net.convs() + paper_net.linears():
        assert abs(layer.weight.mean().item()) < 2e-3
        assert layer.weight.std().item() == pytest.approx(0.01, rel=0.05)


def test_biases_are_one_in_conv2_conv4_conv5_fc6_fc7_and_zero_elsewhere(paper_net):
    layers = paper_net.convs() + paper_net.linears()
    fills = [torch.unique(layer.bias).tolist() for layer in layers]
    assert fills == [[0.0], [1.0], [0.0], [1.0], [1.0], [1.0], [1.0], [0.0]]


def test_kaiming_init_starts_at_chance_level_and_still_learns():
    torch.manual_seed(0)
    net = AlexNet(AlexNetConfig(num_classes=10, init="kaiming"))
    images, labels = torch.randn(4, 3, 96, 96), torch.arange(4)
    loss = torch.nn.functional.cross_entropy(net(images), labels)
    assert loss.item() == pytest.approx(torch.log(torch.tensor(10.0)).item(), abs=1e-6)
    loss.backward()
    fc8 = net.linears()[-1]
    assert fc8.weight.grad.abs().max().item() > 0  # zero weights, yet a gradient to learn from
    assert all(layer.weight.std().item() > 0 for layer in net.convs() + net.linears()[:-1])


def test_dropout_sits_before_fc6_and_fc7(paper_net):
    kinds = [type(m).__name__ for m in paper_net.classifier]
    assert kinds == ["Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear"]
    assert all(m.p == 0.5 for m in paper_net.classifier if isinstance(m, torch.nn.Dropout))


def test_fewer_than_two_classes_is_refused():
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        AlexNet(AlexNetConfig(num_classes=1))


def test_input_too_small_names_the_minimum(paper_net):
    with pytest.raises(ValueError, match="smaller than this network's minimum 63x63"):
        paper_net(torch.zeros(1, 3, 32, 32))


def test_smallest_accepted_input_runs(paper_net):
    with torch.no_grad():
        assert paper_net(torch.zeros(1, 3, 63, 63)).shape == (1, 1000)


def test_non_rgb_input_is_refused(paper_net):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        paper_net(torch.zeros(1, 1, 224, 224))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
