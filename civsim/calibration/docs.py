"""The documentation page of a calibration (``civsim calibrate ... --docs DIR`` -> ``DIR/calibration.md``).

The page is the method and the evidence (with its measurement model), then
the calibration's report, then the out-of-sample check and how to reproduce
it with its run time. Regenerate it by rerunning the command it shows.
"""

from __future__ import annotations

from typing import Any

from civsim.calibration.pipeline import CalibrationResult

DOCS_INTRO = """# Calibration against evidence

civsim can be calibrated to observed data: `civsim calibrate FILE --out DIR`
runs waves of **history matching** with Gaussian-process emulators (one per
target) to rule out the parameter space that cannot reproduce the data, then
**ABC-SMC** inside what remains, and writes `DIR/posterior.parquet` (one
column per parameter plus `weight`), `DIR/_manifest.json`, `DIR/summary.json`
and `DIR/report.md` with figures. `civsim run SCENARIO --posterior DIR --reps R`
then draws each replicate's parameters from the posterior, so bands carry
parameter uncertainty as well as chance; the posterior of the shipped
calibration below comes with civsim (`--posterior volunteering`), and the
app's Compare page has a **Calibrated** switch that does the same for every
scenario (replicate r takes draw r in each, so differences stay paired; the
results line names the posterior and its hash). Runs go through the same executors as
`civsim sweep` (`--workers N`, `--scheduler tcp://...`), every chunk of runs is
written as it finishes, and rerunning the same command after a crash or
`kill -9` resumes. `--budget RUNS` caps the model runs.

## Method

Following Vernon et al. (2010) and Andrianakis et al. (2015):

1. **History matching.** Wave 1 runs a Latin hypercube of `points` parameter
   sets over the prior box, each `replicates` times; one scikit-learn
   Gaussian-process emulator per fitted target (constant x anisotropic RBF +
   white noise, fitted to replicate means on the unit cube) predicts the
   target's mean and variance anywhere. A parameter set is *implausible*
   when, for some target, `|z - E[f]| / sqrt(V_emulator + V_obs +
   V_discrepancy + V_ensemble) > 3`, where `V_ensemble` is the spread of
   single runs around their mean (the world is one realisation). Wave k+1
   samples uniformly inside what is still non-implausible under every
   earlier wave. The non-implausible share of the prior is estimated from
   20,000 uniform draws; waves stop early when it stops shrinking or is empty
   (then no ABC is run and the report names the closest simulated point and
   the target it fails).
2. **ABC-SMC** (Beaumont et al. 2009) on the prior restricted to the
   non-implausible region: each particle is one model run; the distance is
   the root-mean-square of `(y - z) / sqrt(V_obs + V_discrepancy)` over the
   fitted targets; each generation's tolerance is the weighted median of the
   last generation's distances, down to `epsilon = 1` (the data matched to
   within their stated errors on average); proposals perturb resampled
   particles by a Gaussian of twice their weighted covariance. We did not use
   pyabc 0.13 itself: its transitions draw from numpy's global random state
   (`np.random.choice`), so runs cannot be reproduced from one recorded seed,
   and it evaluates one particle per model call, so many parameter points
   cannot share one batch of the batch core. The algorithm is pyabc's default
   one, with every proposal batch seeded from the file's seed and stored
   before it runs.
3. **Checks.** Emulators are validated on 20% held-out design points each
   wave; the posterior-predictive check compares the accepted runs (and a
   predicted observation: run + observation error + discrepancy) with every
   target, including held-out (`predict`) and shown-only (`show`) ones.

A calibration file:

```toml
name = "volunteering"
scenario = "austerity"        # preset name or path
start = "2010-04"             # calendar month of model month 0 (default: the scenario's, else April 2010)
steps = 150
citizens = 2000
replicates = 4                # runs per point in history matching
seed = 1
discrepancy = 0.015           # model discrepancy sd, in units of each metric (a target may set its own)

[parameters]                  # uniform priors, inside the schema's ranges
burnout_rate = [0.0, 0.3]

[[targets]]                   # in full ...
metric = "engagement"
step = 90
window = [88, 95]             # optional: average over these months
value = 0.22
sd = 0.0065
[[targets]]                   # ... or from the shipped evidence
evidence = "cls_formal_monthly_2019_20"
role = "predict"              # fit (default) | predict (held out) | show

[history_matching]            # waves = 3, points = 80, cutoff = 3.0 by default
[abc]                         # population = 200, generations = 8, quantile = 0.5,
                              # min_acceptance = 0.02, epsilon = 1.0 by default
```

A bad file (unknown parameter, low >= high, unknown metric, a month beyond
`steps`, missing target fields, ...) is one `error:` line and exit status 2.

## The evidence and its measurement model

Shipped in `civsim/data/evidence.csv`, each row with its source, definition,
years, value and the facts its observation error comes from; nothing is
adjusted to fit the model. **Model month 0 = April 2010** (the first month of
financial year 2010-11, where the NAO series starts); a calibration file or a
scenario may name another `start`.

- *Community Life Survey (CLS), formal volunteering at least once a month*:
  the share of adults (16+, England) who gave unpaid help through groups,
  clubs or organisations at least monthly in the last 12 months. Model
  output: `engagement`, averaged over the survey's fieldwork months (the
  question covers the previous year and fieldwork spans 8-12 months).
  Observation error: `sd = sqrt(deff p (1 - p) / n + 0.01^2 / 12)`, sampling
  error with a stated design effect of 2 (not checked against the technical
  reports) plus the rounding of published whole percentages.
- *NAO (2018) service spend*: social care -3.0% and all other services
  -32.6% in real terms, 2010-11 to 2016-17. Model outputs: `budget_care` and
  `budget_services` averaged over 2016-17, each divided by its value at
  month 0. The `austerity` preset takes the NAO path as an input
  (`budget_path`, `protected_path`), so these rows check the input; they do
  not inform any parameter. sd 0.02 is a judgement (the deflator and what
  counts as a service), not a sampling error. The model's budget is what the
  council spends on services, so spending power (-28.6% to 2017-18, which
  also pays for non-service costs) and government funding (-49.1%) have no
  model output and are shipped for reference.

What was checked: each CLS value was found in the published release or in a
summary quoting it (the `checked` column says what: value, fieldwork months,
sample size). Not reached: the CLS technical reports' standard errors and the
sample sizes of years other than 2021/22 (n = 10,126); the face-to-face years
use n = 2,000, the smallest size quoted for them, so their errors are, if
anything, too wide. **A referee's caveat:** the fall from 27% to 22% between
2015/16 and 2016/17 coincides with the survey's switch from face-to-face
interviews to online/paper self-completion; DCMS's own releases compare
2019/20 with 2013/14 as one series, and so do we, but part of that drop may
be a mode effect that no model mechanism should reproduce. The model
discrepancy term is the place such doubts are carried.

"""

DOCS_PANDEMIC = """
## Out-of-sample check and the pandemic years

The fit uses CLS 2013/14 to 2017/18 (the NAO budget path is an input);
2018/19 and 2019/20 are held out (role `predict`) and their predicted
intervals are compared with the observed 22% and 23% in the table above
(rows marked `predict`). **2020/21 and 2021/22 are shown but neither fitted
nor used as a test**: 2020/21 fieldwork ran through three national lockdowns
and 2021/22 through their aftermath (14% of respondents named pandemic
restrictions or worries as a barrier), and the model has no pandemic
mechanism. Treating them as tests of the model would test something it does
not claim to represent; fitting them would force its behavioural constants to
absorb a shock they do not describe.

"""


def docs_page(result: CalibrationResult, summary: dict[str, Any], report_md: str) -> str:
    """The documentation page: method and evidence, then the report, then the hold-out discussion."""
    from civsim.calibration.evidence import markdown_table

    spec = result.spec
    run = (
        "\n## Reproduce\n\n```sh\n"
        f"civsim calibrate {spec.path} --out runs/{spec.name} --workers 2 --docs docs\n```\n\n"
        f"This run used {summary['runs_total']:,} model runs. " + _sessions(result) + "\n"
    )
    body = report_md.replace("# Calibration:", "## The shipped calibration:", 1)
    body = body.replace("\n## ", "\n### ").replace("\n### The shipped", "\n## The shipped")
    return DOCS_INTRO + markdown_table(spec.start) + "\n" + body + DOCS_PANDEMIC + _held_out(summary) + run


def _held_out(summary: dict[str, Any]) -> str:
    """One line per held-out and shown-only target: predicted interval against the observation."""
    lines = []
    for name, v in summary.get("predictive", {}).items():
        if v["role"] == "fit":
            continue
        verdict = "inside" if v["covered"] else "**outside**"
        kind = "held out" if v["role"] == "predict" else "shown only, not a test"
        lines.append(
            f"- {name} ({kind}): observed {v['observed']:g}; model median {v['model_median']:.3f}, "
            f"model 90% [{v['model_p5']:.3f}, {v['model_p95']:.3f}], predicted observation 90% "
            f"[{v['obs_p5']:.3f}, {v['obs_p95']:.3f}]: {verdict} (z = {v['z']:+.2f})."
        )
    return ("\n".join(lines) + "\n") if lines else ""


def _sessions(result: CalibrationResult) -> str:
    """The run time of each session of the calibration, from its manifest."""
    import json

    try:
        sessions = json.loads((result.out / "_manifest.json").read_text(encoding="utf-8"))["sessions"]
    except (OSError, ValueError, KeyError):
        return ""
    if not sessions or sessions[-1].get("seconds") != round(result.seconds, 2):  # this one not yet recorded
        sessions = sessions + [{"seconds": result.seconds, "runs_simulated": result.runs_simulated}]
    replays = [x for x in sessions if not x.get("runs_simulated")]
    sessions = [x for x in sessions if x.get("runs_simulated")]
    words = []
    for x in sessions:
        cpu = x.get("cpu_seconds_model_runs")
        load = x.get("load_average_1min")
        words.append(
            f"{x['seconds']:.0f} s wall for {x.get('runs_simulated', 0):,} runs"
            + (f" ({cpu:.0f} CPU s in the model)" if cpu is not None else "")
            + (f" at load average {load:g}" if load is not None else "")
            + (f" ({x['note']})" if x.get("note") else "")
        )
    more = (
        f" ({len(replays)} later session(s) only replayed the stored runs to rewrite the report)"
        if replays
        else ""
    )
    return "Sessions on a 2-core machine shared with other work: " + "; ".join(words) + more + "."
