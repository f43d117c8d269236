#!/usr/bin/env python3
"""Makes the bundled example: a loan-approval model's reference data
(reference.csv, 5,000 rows) and a current window (current.csv, 1,000 rows)
in which income, loan purpose and the free-text notes have drifted.
Pure standard library and seeded, so the files are reproducible:

    python3 examples/loans/generate.py
    cargo run -- baseline build --input examples/loans/reference.csv \
        --out examples/loans/baseline.json --model loans
"""
import csv
import math
import os
import random

PURPOSES = ["car", "home", "education", "business", "medical", "debt consolidation"]
REGIONS = ["New York", "San Jose", "Austin", "Chicago", "Miami"]
BANDS = ["< 40K €", "40K - 60K €", "60K - 100K €", "> 100K €"]
WORDS = ("applicant has stable employment and good history pays on time "
         "requested extension previously late payment noted verified income "
         "self employed contractor seasonal work new customer returning "
         "café owner naïve estimate 12 months 3 payments 2024").split()


def band(income):
    return BANDS[0] if income < 40e3 else BANDS[1] if income < 60e3 else BANDS[2] if income < 100e3 else BANDS[3]


def row(rng, drifted):
    age = min(75, max(18, int(rng.gauss(41, 12))))
    income = round(rng.lognormvariate(math.log(55e3) + (0.2 if drifted else 0.0), 0.45), 2)
    amount = round(rng.uniform(1e3, 40e3), 2)
    term = rng.choice([36, 60])
    weights = [1, 1, 1, 1, 1, 4] if drifted else [4, 3, 2, 1, 1, 1]
    purpose = rng.choices(PURPOSES, weights)[0]
    region = rng.choice(REGIONS)
    n_words = rng.randint(12, 30) if drifted else rng.randint(3, 12)
    notes = " ".join(rng.choice(WORDS) for _ in range(n_words))
    z = 0.00004 * (income - 55e3) - 0.00005 * (amount - 20e3) + 0.02 * (age - 40) + rng.gauss(0, 1)
    score = round(1 / (1 + math.exp(-z)), 6)
    return [age, income, amount, term, purpose, region, band(income), notes, score, int(score > 0.5)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    header = ["age", "income", "loan_amount", "term", "purpose", "region", "income_band",
              "notes", "score", "approved"]
    for name, n, drifted, seed in (("reference", 5000, False, 1), ("current", 1000, True, 2)):
        rng = random.Random(seed)
        with open(os.path.join(here, f"{name}.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for _ in range(n):
                w.writerow(row(rng, drifted))


if __name__ == "__main__":
    main()
