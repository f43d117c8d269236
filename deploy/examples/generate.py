#!/usr/bin/env python3
"""Makes the reference data of the example configs that do not use the
bundled loans example: a house-price regression model (regression.csv) and
a chat model's prompts and replies (llm-chat.csv), 400 rows each. Pure
standard library and seeded, so the files are reproducible:

    python3 deploy/examples/generate.py
    cargo run -- baseline build --input deploy/examples/regression.csv \
        --out deploy/examples/regression-baseline.json --model house-prices
    cargo run -- baseline build --input deploy/examples/llm-chat.csv \
        --out deploy/examples/llm-chat-baseline.json --model chat \
        --kind prompt=text --kind reply=text
"""
import csv
import os
import random

DISTRICTS = ["north", "south", "east", "west", "centre"]
TOPICS = ["invoice", "password reset", "refund", "delivery date", "account upgrade",
          "api key", "data export", "billing address"]
OPENERS = ["How do I", "Can you help me with", "Why does my", "What is the process for",
           "I need help with"]
REPLIES = ("sure here are the steps open settings then select the account page "
           "and choose the option you need if it does not work contact support "
           "with your ticket number we usually answer within 24 hours").split()


def house(rng):
    area = round(rng.lognormvariate(4.4, 0.35), 1)
    rooms = max(1, min(8, int(area / 25 + rng.gauss(0, 0.8))))
    age = rng.randint(0, 90)
    district = rng.choice(DISTRICTS)
    price = 2800 * area * (1.2 if district == "centre" else 1.0) - 900 * age + rng.gauss(0, 20e3)
    return [area, rooms, age, district, round(max(price, 30e3), 2)]


def chat(rng):
    prompt = f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}? order {rng.randint(1000, 99999)}"
    reply = " ".join(rng.choice(REPLIES) for _ in range(rng.randint(5, 25)))
    return [prompt, reply, len(reply.split())]


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(7)
    write(os.path.join(here, "regression.csv"),
          ["area_m2", "rooms", "age_years", "district", "predicted_price"],
          [house(rng) for _ in range(400)])
    write(os.path.join(here, "llm-chat.csv"), ["prompt", "reply", "reply_words"],
          [chat(rng) for _ in range(400)])


if __name__ == "__main__":
    main()
