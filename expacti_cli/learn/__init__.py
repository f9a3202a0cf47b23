"""Learning from the audit history: what humans approved and denied, and what to suggest.

- `history`: read decision records out of the audit log as `DecisionRecord` values (the one
  reader for everything that learns from past decisions: suggestions, anomalies, stats).
- `suggest`: group commands humans approved repeatedly and propose narrow rules that cover
  them, checked with the real matcher against everything that was denied or riskier (pure).
"""
