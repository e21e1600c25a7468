#!/usr/bin/env python3
"""Writes Loupe's probe datasets (probes/<name>/<name>.jsonl) from the hand-written lists below.

Standard library only; deterministic (seeded). Run from the repository root:

    python3 scripts/datasets/make_probe_datasets.py

The lists were written for Loupe by hand; nothing here was chosen or filtered by looking at
what a model does with them.
"""
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "probes"

# ---------------------------------------------------------------------------------------------
# facts-true-false: country -> capital, country -> continent, element -> symbol.
COUNTRIES = [  # (country, capital, continent)
    ("France", "Paris", "Europe"), ("Germany", "Berlin", "Europe"), ("Italy", "Rome", "Europe"),
    ("Spain", "Madrid", "Europe"), ("Portugal", "Lisbon", "Europe"), ("Greece", "Athens", "Europe"),
    ("Austria", "Vienna", "Europe"), ("Hungary", "Budapest", "Europe"), ("Poland", "Warsaw", "Europe"),
    ("Sweden", "Stockholm", "Europe"), ("Norway", "Oslo", "Europe"), ("Finland", "Helsinki", "Europe"),
    ("Denmark", "Copenhagen", "Europe"), ("Ireland", "Dublin", "Europe"), ("Belgium", "Brussels", "Europe"),
    ("the Netherlands", "Amsterdam", "Europe"), ("Switzerland", "Bern", "Europe"),
    ("the Czech Republic", "Prague", "Europe"), ("Romania", "Bucharest", "Europe"),
    ("Bulgaria", "Sofia", "Europe"), ("Serbia", "Belgrade", "Europe"), ("Croatia", "Zagreb", "Europe"),
    ("Ukraine", "Kyiv", "Europe"), ("Russia", "Moscow", "Europe"), ("Iceland", "Reykjavik", "Europe"),
    ("Estonia", "Tallinn", "Europe"), ("Latvia", "Riga", "Europe"), ("Lithuania", "Vilnius", "Europe"),
    ("Slovakia", "Bratislava", "Europe"), ("Slovenia", "Ljubljana", "Europe"),
    ("Japan", "Tokyo", "Asia"), ("China", "Beijing", "Asia"), ("India", "New Delhi", "Asia"),
    ("South Korea", "Seoul", "Asia"), ("Thailand", "Bangkok", "Asia"), ("Vietnam", "Hanoi", "Asia"),
    ("Indonesia", "Jakarta", "Asia"), ("the Philippines", "Manila", "Asia"), ("Malaysia", "Kuala Lumpur", "Asia"),
    ("Pakistan", "Islamabad", "Asia"), ("Bangladesh", "Dhaka", "Asia"), ("Nepal", "Kathmandu", "Asia"),
    ("Iran", "Tehran", "Asia"), ("Iraq", "Baghdad", "Asia"), ("Saudi Arabia", "Riyadh", "Asia"),
    ("Turkey", "Ankara", "Asia"), ("Israel", "Jerusalem", "Asia"), ("Syria", "Damascus", "Asia"),
    ("Afghanistan", "Kabul", "Asia"), ("Mongolia", "Ulaanbaatar", "Asia"), ("Kazakhstan", "Astana", "Asia"),
    ("Sri Lanka", "Colombo", "Asia"), ("Cambodia", "Phnom Penh", "Asia"), ("Qatar", "Doha", "Asia"),
    ("Egypt", "Cairo", "Africa"), ("Kenya", "Nairobi", "Africa"), ("Nigeria", "Abuja", "Africa"),
    ("Ethiopia", "Addis Ababa", "Africa"), ("Ghana", "Accra", "Africa"), ("Morocco", "Rabat", "Africa"),
    ("Algeria", "Algiers", "Africa"), ("Tunisia", "Tunis", "Africa"), ("Senegal", "Dakar", "Africa"),
    ("Uganda", "Kampala", "Africa"), ("Tanzania", "Dodoma", "Africa"), ("Zimbabwe", "Harare", "Africa"),
    ("Angola", "Luanda", "Africa"), ("Sudan", "Khartoum", "Africa"), ("Libya", "Tripoli", "Africa"),
    ("Mali", "Bamako", "Africa"), ("Rwanda", "Kigali", "Africa"), ("Zambia", "Lusaka", "Africa"),
    ("Canada", "Ottawa", "North America"), ("the United States", "Washington", "North America"),
    ("Mexico", "Mexico City", "North America"), ("Cuba", "Havana", "North America"),
    ("Jamaica", "Kingston", "North America"), ("Guatemala", "Guatemala City", "North America"),
    ("Honduras", "Tegucigalpa", "North America"), ("Nicaragua", "Managua", "North America"),
    ("Costa Rica", "San Jose", "North America"), ("Panama", "Panama City", "North America"),
    ("Brazil", "Brasilia", "South America"), ("Argentina", "Buenos Aires", "South America"),
    ("Chile", "Santiago", "South America"), ("Peru", "Lima", "South America"),
    ("Colombia", "Bogota", "South America"), ("Venezuela", "Caracas", "South America"),
    ("Ecuador", "Quito", "South America"), ("Bolivia", "La Paz", "South America"),
    ("Uruguay", "Montevideo", "South America"), ("Paraguay", "Asuncion", "South America"),
    ("Australia", "Canberra", "Oceania"), ("New Zealand", "Wellington", "Oceania"),
    ("Fiji", "Suva", "Oceania"), ("Papua New Guinea", "Port Moresby", "Oceania"),
]

ELEMENTS = [  # (element, symbol)
    ("hydrogen", "H"), ("helium", "He"), ("lithium", "Li"), ("carbon", "C"), ("nitrogen", "N"),
    ("oxygen", "O"), ("fluorine", "F"), ("neon", "Ne"), ("sodium", "Na"), ("magnesium", "Mg"),
    ("aluminium", "Al"), ("silicon", "Si"), ("phosphorus", "P"), ("sulfur", "S"), ("chlorine", "Cl"),
    ("argon", "Ar"), ("potassium", "K"), ("calcium", "Ca"), ("titanium", "Ti"), ("chromium", "Cr"),
    ("manganese", "Mn"), ("iron", "Fe"), ("cobalt", "Co"), ("nickel", "Ni"), ("copper", "Cu"),
    ("zinc", "Zn"), ("arsenic", "As"), ("bromine", "Br"), ("krypton", "Kr"), ("silver", "Ag"),
    ("tin", "Sn"), ("iodine", "I"), ("xenon", "Xe"), ("platinum", "Pt"), ("gold", "Au"),
    ("mercury", "Hg"), ("lead", "Pb"), ("uranium", "U"), ("radon", "Rn"), ("tungsten", "W"),
]


def facts(rng):
    rows = []
    capitals = [c[1] for c in COUNTRIES]
    continents = sorted({c[2] for c in COUNTRIES})
    symbols = [e[1] for e in ELEMENTS]
    for country, capital, continent in COUNTRIES:
        wrong = rng.choice([c for c in capitals if c != capital])
        for obj, truth in ((capital, True), (wrong, False)):
            rows.append({"text": f"The capital of {country} is {obj}.", "subject": country,
                         "relation": "capital", "object": obj, "label": "true" if truth else "false"})
    # Continents for every other country (keeps the dataset balanced between relations).
    for country, _, continent in COUNTRIES[::2]:
        wrong = rng.choice([c for c in continents if c != continent])
        name = country[0].upper() + country[1:]
        for obj, truth in ((continent, True), (wrong, False)):
            rows.append({"text": f"{name} is a country in {obj}.", "subject": name,
                         "relation": "continent", "object": obj, "label": "true" if truth else "false"})
    for element, symbol in ELEMENTS:
        wrong = rng.choice([s for s in symbols if s != symbol])
        for obj, truth in ((symbol, True), (wrong, False)):
            rows.append({"text": f"The chemical symbol of {element} is {obj}.", "subject": element,
                         "relation": "symbol", "object": obj, "label": "true" if truth else "false"})
    return rows

# ---------------------------------------------------------------------------------------------
# subject-category: person / city / country / animal, in neutral sentence frames.
PEOPLE = [
    "Albert Einstein", "Marie Curie", "Isaac Newton", "Charles Darwin", "Leonardo da Vinci",
    "William Shakespeare", "Jane Austen", "Mahatma Gandhi", "Nelson Mandela", "Abraham Lincoln",
    "Winston Churchill", "Napoleon Bonaparte", "Cleopatra", "Julius Caesar", "Wolfgang Mozart",
    "Ludwig van Beethoven", "Pablo Picasso", "Vincent van Gogh", "Frida Kahlo", "Galileo Galilei",
    "Nikola Tesla", "Thomas Edison", "Ada Lovelace", "Alan Turing", "Florence Nightingale",
    "Martin Luther King", "Queen Victoria", "Genghis Khan", "Confucius", "Aristotle",
    "Plato", "Socrates", "Homer", "Dante Alighieri", "Miguel de Cervantes",
    "Leo Tolstoy", "Fyodor Dostoevsky", "Mark Twain", "Ernest Hemingway", "Virginia Woolf",
    "Charles Dickens", "Oscar Wilde", "Johann Bach", "Frederic Chopin", "Elvis Presley",
    "Michael Jackson", "Marilyn Monroe", "Charlie Chaplin", "Walt Disney", "Steve Jobs",
    "Bill Gates", "Elon Musk", "Barack Obama", "Angela Merkel", "Vladimir Putin",
    "Serena Williams", "Roger Federer", "Lionel Messi", "Cristiano Ronaldo", "Michael Jordan",
    "Muhammad Ali", "Usain Bolt", "Pele", "Neil Armstrong", "Yuri Gagarin",
    "Amelia Earhart", "Sigmund Freud", "Karl Marx", "Adam Smith", "John Lennon",
    "Bob Dylan", "Taylor Swift", "Beyonce", "Oprah Winfrey", "Stephen Hawking",
    "Rosa Parks", "Joan of Arc", "Louis Pasteur", "Alexander Fleming", "Johannes Kepler",
]
CITIES = [
    "Paris", "London", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Budapest", "Warsaw", "Lisbon",
    "Amsterdam", "Brussels", "Stockholm", "Oslo", "Copenhagen", "Helsinki", "Dublin", "Edinburgh", "Barcelona", "Milan",
    "Munich", "Hamburg", "Zurich", "Geneva", "Venice", "Florence", "Naples", "Athens", "Istanbul", "Moscow",
    "Tokyo", "Osaka", "Kyoto", "Seoul", "Beijing", "Shanghai", "Hong Kong", "Singapore", "Bangkok", "Mumbai",
    "Delhi", "Karachi", "Dubai", "Tehran", "Cairo", "Lagos", "Nairobi", "Cape Town", "Johannesburg", "Casablanca",
    "New York", "Los Angeles", "Chicago", "Houston", "Boston", "San Francisco", "Seattle", "Miami", "Toronto", "Vancouver",
    "Montreal", "Mexico City", "Havana", "Lima", "Bogota", "Santiago", "Buenos Aires", "Rio de Janeiro", "Sao Paulo", "Caracas",
    "Sydney", "Melbourne", "Auckland", "Manchester", "Liverpool", "Marseille", "Lyon", "Seville", "Krakow", "Jakarta",
]
CATEGORY_COUNTRIES = [
    "France", "Germany", "Italy", "Spain", "Portugal", "Greece", "Austria", "Hungary", "Poland", "Sweden",
    "Norway", "Finland", "Denmark", "Ireland", "Belgium", "Switzerland", "Romania", "Bulgaria", "Serbia", "Croatia",
    "Ukraine", "Russia", "Iceland", "Estonia", "Latvia", "Lithuania", "Japan", "China", "India", "Thailand",
    "Vietnam", "Indonesia", "Malaysia", "Pakistan", "Bangladesh", "Nepal", "Iran", "Iraq", "Saudi Arabia", "Turkey",
    "Israel", "Syria", "Afghanistan", "Mongolia", "Kazakhstan", "Egypt", "Kenya", "Nigeria", "Ethiopia", "Ghana",
    "Morocco", "Algeria", "Tunisia", "Senegal", "Uganda", "Tanzania", "Zimbabwe", "Angola", "Sudan", "Libya",
    "Canada", "Mexico", "Cuba", "Jamaica", "Guatemala", "Honduras", "Brazil", "Argentina", "Chile", "Peru",
    "Colombia", "Venezuela", "Ecuador", "Bolivia", "Uruguay", "Paraguay", "Australia", "New Zealand", "Fiji", "Cambodia",
]
ANIMALS = [
    "the elephant", "the giraffe", "the lion", "the tiger", "the leopard", "the cheetah", "the zebra", "the hippo",
    "the rhino", "the gorilla", "the chimpanzee", "the kangaroo", "the koala", "the panda", "the polar bear",
    "the brown bear", "the wolf", "the fox", "the rabbit", "the squirrel", "the hedgehog", "the badger",
    "the otter", "the beaver", "the deer", "the moose", "the camel", "the horse", "the donkey", "the cow",
    "the sheep", "the goat", "the pig", "the dog", "the cat", "the mouse", "the rat", "the bat",
    "the dolphin", "the whale", "the shark", "the octopus", "the squid", "the crab", "the lobster",
    "the jellyfish", "the salmon", "the trout", "the eagle", "the owl", "the parrot", "the penguin",
    "the flamingo", "the swan", "the duck", "the goose", "the chicken", "the crow", "the pigeon",
    "the sparrow", "the peacock", "the ostrich", "the crocodile", "the alligator", "the turtle",
    "the tortoise", "the snake", "the lizard", "the frog", "the toad", "the bee", "the ant",
    "the butterfly", "the spider", "the mosquito", "the snail", "the worm", "the seal", "the walrus", "the hamster",
]
CATEGORY_FRAMES = [
    "Yesterday I read a long article about {s}.",
    "My friend keeps talking about {s}.",
    "There was a documentary about {s} on television.",
    "The teacher asked us to write an essay about {s}.",
    "I found an old postcard showing {s}.",
    "Everyone at dinner had an opinion about {s}.",
]


def categories(rng):
    rows = []
    for label, names in (("person", PEOPLE), ("city", CITIES), ("country", CATEGORY_COUNTRIES), ("animal", ANIMALS)):
        assert len(names) == len(set(names)) == 80, (label, len(names))
        for name in names:
            frame = rng.choice(CATEGORY_FRAMES)
            text = frame.format(s=name)
            if text[0].islower():
                text = text[0].upper() + text[1:]
            rows.append({"text": text, "subject": name, "label": label})
    rng.shuffle(rows)
    return rows

# ---------------------------------------------------------------------------------------------
# sentiment: short reviews; the label hinges on the adjective.
NOUNS = ["movie", "meal", "hotel", "concert", "book", "service", "game", "trip", "show", "album",
         "restaurant", "lecture", "coffee", "party", "museum", "phone", "weather", "flight", "play", "class"]
POSITIVE = ["wonderful", "excellent", "delightful", "fantastic", "great", "lovely", "superb", "brilliant",
            "amazing", "charming", "enjoyable", "pleasant", "marvelous", "terrific", "beautiful",
            "impressive", "perfect", "fun", "splendid", "outstanding"]
NEGATIVE = ["terrible", "awful", "horrible", "dreadful", "boring", "disappointing", "bad", "poor",
            "miserable", "unpleasant", "dull", "annoying", "mediocre", "painful", "ugly",
            "disgusting", "tedious", "lousy", "pathetic", "depressing"]
SENTIMENT_FRAMES = [
    "The {n} was {a}.",
    "I thought the {n} was {a}.",
    "Honestly, the {n} was {a}.",
    "Our {n} last night was {a}.",
    "Everyone agreed the {n} was {a}.",
]


def sentiment(rng):
    rows, seen = [], set()
    for label, adjectives in (("positive", POSITIVE), ("negative", NEGATIVE)):
        for adjective in adjectives:
            # Nine sentences per adjective, each with another noun and a random frame.
            for noun in rng.sample(NOUNS, 9):
                frame = rng.choice(SENTIMENT_FRAMES)
                text = frame.format(n=noun, a=adjective)
                if text in seen:
                    continue
                seen.add(text)
                rows.append({"text": text, "word": adjective, "noun": noun, "label": label})
    rng.shuffle(rows)
    return rows


def write(name, rows):
    folder = ROOT / name
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in rows:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    print(name, len(rows), dict(sorted(counts.items())))


if __name__ == "__main__":
    write("facts-true-false", facts(random.Random(1)))
    write("subject-category", categories(random.Random(2)))
    write("sentiment", sentiment(random.Random(3)))
