"""The accuracy measure of spec §5: err(x) = RMS(ref - x) / RMS(ref), in
float64, with NaN anywhere counting as infinitely wrong."""

import math

import torch


def rel_rms(ref, x):
    ref = ref.double()
    x = x.double()
    if not torch.isfinite(x).all():
        return math.inf
    denominator = ref.pow(2).mean().sqrt().item()
    numerator = (ref - x).pow(2).mean().sqrt().item()
    if denominator == 0.0:
        return 0.0 if numerator == 0.0 else math.inf
    return numerator / denominator
