"""From a spectrum, IQ samples or a survey to measured emissions, artefacts removed.

A facade over the three entry points, each in its own module:

- :func:`analyze_spectrum` (:mod:`dsp.analysis`): one spectrum;
- :func:`analyze_iq` (:mod:`dsp.iq_analysis`): a block of IQ samples;
- :func:`analyze_survey` (:mod:`dsp.survey`): the sweeps of a survey.
"""

from __future__ import annotations

from dsp.analysis import REASON_LOW_SNR, AnalysisResult, analyze_spectrum, tuned_centres
from dsp.iq_analysis import REFINE_MIN_BINS, analyze_iq, default_fft_size
from dsp.survey import analyze_survey, average_spectra

__all__ = [
    "REFINE_MIN_BINS",
    "REASON_LOW_SNR",
    "AnalysisResult",
    "analyze_spectrum",
    "analyze_iq",
    "analyze_survey",
    "average_spectra",
    "default_fft_size",
    "tuned_centres",
]
