"""Learning from the audit history: what humans approved and denied, and what to suggest.

- `history`: read decision records out of the audit log as `DecisionRecord` values (the one
  reader for everything that learns from past decisions: suggestions, anomalies, stats).
- `suggest`: group commands humans approved repeatedly and propose narrow rules that cover
  them, checked with the real matcher against everything that was denied or riskier (pure).
- `stats`: count outcomes, review times, rule use and per-day buckets for `expacti stats` (pure).
- `profile` + `anomaly`: a running summary of the user's history, and what is unusual about a
  new command against it (time of day, a burst, a first-ever program or target, unlike history).
"""
