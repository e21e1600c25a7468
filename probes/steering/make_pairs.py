#!/usr/bin/env python3
"""Writes sentiment-pairs.jsonl and formality-pairs.jsonl from the hand-written lists below.

Deterministic (no randomness): each pair is one template filled with one item, cycled so that
every template and every item appears several times. Run from this folder:
    python3 make_pairs.py
"""
import json

SENTIMENT_SUBJECTS = [
    "The movie", "The food at this restaurant", "My day at work", "The hotel room", "The concert last night",
    "This book", "Our vacation", "The new phone", "The customer service", "The weather this weekend",
    "The party", "My new apartment", "The class", "The trip to the coast", "The game",
]
SENTIMENT_WORDS = [  # (positive, negative)
    ("wonderful", "terrible"), ("great", "awful"), ("amazing", "horrible"), ("delightful", "miserable"),
    ("excellent", "dreadful"), ("lovely", "disappointing"), ("fantastic", "bad"), ("brilliant", "painful"),
]
SENTIMENT_TEMPLATES = [
    "{s} was {w}.",
    "Honestly, {s_lower} was {w} and I would say so again.",
    "I have to say {s_lower} was {w}.",
    "Everyone agreed that {s_lower} was {w}.",
    "My friend told me {s_lower} was {w}.",
    "All in all, {s_lower} was {w}.",
    "{s} turned out to be {w}.",
    "Looking back, {s_lower} was really {w}.",
]
FEELINGS = [  # (positive, negative) whole sentences about feelings
    ("I feel so happy today.", "I feel so sad today."),
    ("I love spending time here.", "I hate spending time here."),
    ("This made me smile all day.", "This made me angry all day."),
    ("What a joy it was to see them.", "What a pain it was to see them."),
    ("I am thrilled with how it turned out.", "I am upset with how it turned out."),
    ("She was kind and cheerful to everyone.", "She was rude and bitter to everyone."),
    ("The news filled me with hope.", "The news filled me with dread."),
    ("We had a wonderful time together.", "We had a terrible time together."),
    ("I am grateful for this gift.", "I am annoyed by this gift."),
    ("It was a pleasure to work with him.", "It was a nightmare to work with him."),
    ("The kids were laughing and playing.", "The kids were crying and fighting."),
    ("I am proud of what we built.", "I am ashamed of what we built."),
]

FORMALITY_ITEMS = [
    "the report", "the slides", "the invoice", "your notes", "the schedule", "the contract",
    "the budget", "the photos", "the address", "the minutes", "the results", "the tickets",
]
FORMALITY_TEMPLATES = [  # (formal, informal)
    ("Could you please send me {i} at your earliest convenience?", "hey can u send me {i} asap"),
    ("I would be grateful if you could review {i} before Friday.", "yo take a look at {i} before friday ok"),
    ("Please find attached {i}, as requested.", "here's {i} lol"),
    ("I regret to inform you that {i} has been delayed.", "ugh {i} is late, sorry"),
    ("Would it be possible to discuss {i} tomorrow morning?", "wanna chat about {i} tmrw?"),
    ("Thank you kindly for sharing {i} with us.", "thx for {i}!!"),
    ("I am writing to request an update regarding {i}.", "any news on {i}?"),
    ("Kindly confirm that you have received {i}.", "u got {i} yeah?"),
    ("We sincerely apologise for the error in {i}.", "oops my bad, messed up {i}"),
    ("I shall forward {i} to the committee this afternoon.", "gonna send {i} to the guys later"),
]
FORMAL_FREE = [
    ("Good afternoon, I hope this message finds you well.", "hey whats up"),
    ("I would like to express my sincere gratitude for your assistance.", "thanks a ton dude"),
    ("Please do not hesitate to contact me should you require further information.", "just text me if u need anything"),
    ("I am afraid I must decline your kind invitation.", "nah can't make it sorry"),
    ("It was a pleasure to make your acquaintance.", "nice meeting ya"),
    ("We look forward to your prompt reply.", "get back to me quick k"),
    ("With kind regards, the management.", "cheers, the gang"),
    ("I respectfully disagree with the proposed approach.", "nah that idea kinda sucks"),
]


def sentiment():
    pairs = []
    n = 0
    for t in SENTIMENT_TEMPLATES:
        for k, s in enumerate(SENTIMENT_SUBJECTS):
            pos, neg = SENTIMENT_WORDS[(k + n) % len(SENTIMENT_WORDS)]
            fill = lambda w: t.format(s=s, s_lower=s[0].lower() + s[1:], w=w)
            pairs.append({"positive": fill(pos), "negative": fill(neg)})
        n += 3
    pairs += [{"positive": p, "negative": q} for p, q in FEELINGS]
    return pairs


def formality():
    pairs = []
    for k, (formal, informal) in enumerate(FORMALITY_TEMPLATES):
        for j in range(10):
            item = FORMALITY_ITEMS[(k * 5 + j) % len(FORMALITY_ITEMS)]
            pairs.append({"positive": formal.format(i=item), "negative": informal.format(i=item)})
    pairs += [{"positive": p, "negative": q} for p, q in FORMAL_FREE]
    return pairs


for name, pairs in [("sentiment-pairs.jsonl", sentiment()), ("formality-pairs.jsonl", formality())]:
    assert len(pairs) >= 100 and len({json.dumps(p) for p in pairs}) == len(pairs), name
    with open(name, "w") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(name, len(pairs))
