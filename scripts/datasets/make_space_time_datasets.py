#!/usr/bin/env python3
"""Writes Loupe's numeric probe datasets, in the spirit of Gurnee & Tegmark (2023), "Language
Models Represent Space and Time":

    probes/world-places/world-places.jsonl   cities and landmarks with latitude and longitude
    probes/people-years/people-years.jsonl   famous people with their birth year

Standard library only; deterministic. Run from the repository root:

    python3 scripts/datasets/make_space_time_datasets.py

The lists were written for Loupe by hand from general knowledge (coordinates rounded to two
decimals, well inside the 0.5 degree the dataset promises; birth years as the standard
biographies give them; negative years are BCE, astronomical style is not used: 100 BC = -100).
Names that are ambiguous (Perth in Scotland, Hyderabad in Pakistan, Valencia in Venezuela,
Francis Bacon the painter) and people whose birth year is uncertain (Newton's Julian/Gregorian
year, Columbus, Dante) were left out on purpose. Nothing was chosen or filtered by looking at
what a model does with them.

Prompts are the name alone, as in the paper, after one newline: SmolLM2 has no BOS token and
position 0 is the attention sink (its residual norm is ~100x the others'), so a one-token name
at position 0 would be read at the sink; the newline takes BOS's place and the name is read at
its last token.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "probes"

EU, AS, AF, NA, SA, OC = "Europe", "Asia", "Africa", "North America", "South America", "Oceania"

CITIES = [  # (name, country, continent, latitude, longitude)
    ("Paris", "France", EU, 48.86, 2.35), ("London", "United Kingdom", EU, 51.51, -0.13),
    ("Berlin", "Germany", EU, 52.52, 13.40), ("Madrid", "Spain", EU, 40.42, -3.70),
    ("Rome", "Italy", EU, 41.90, 12.50), ("Lisbon", "Portugal", EU, 38.72, -9.14),
    ("Amsterdam", "Netherlands", EU, 52.37, 4.90), ("Brussels", "Belgium", EU, 50.85, 4.35),
    ("Vienna", "Austria", EU, 48.21, 16.37), ("Prague", "Czech Republic", EU, 50.08, 14.44),
    ("Warsaw", "Poland", EU, 52.23, 21.01), ("Budapest", "Hungary", EU, 47.50, 19.04),
    ("Athens", "Greece", EU, 37.98, 23.73), ("Stockholm", "Sweden", EU, 59.33, 18.07),
    ("Oslo", "Norway", EU, 59.91, 10.75), ("Copenhagen", "Denmark", EU, 55.68, 12.57),
    ("Helsinki", "Finland", EU, 60.17, 24.94), ("Dublin", "Ireland", EU, 53.35, -6.26),
    ("Edinburgh", "United Kingdom", EU, 55.95, -3.19), ("Manchester", "United Kingdom", EU, 53.48, -2.24),
    ("Barcelona", "Spain", EU, 41.39, 2.17), ("Milan", "Italy", EU, 45.46, 9.19),
    ("Naples", "Italy", EU, 40.85, 14.27), ("Venice", "Italy", EU, 45.44, 12.32),
    ("Florence", "Italy", EU, 43.77, 11.26), ("Munich", "Germany", EU, 48.14, 11.58),
    ("Hamburg", "Germany", EU, 53.55, 9.99), ("Frankfurt", "Germany", EU, 50.11, 8.68),
    ("Zurich", "Switzerland", EU, 47.38, 8.54), ("Geneva", "Switzerland", EU, 46.20, 6.14),
    ("Marseille", "France", EU, 43.30, 5.37), ("Lyon", "France", EU, 45.76, 4.84),
    ("Bucharest", "Romania", EU, 44.43, 26.10), ("Sofia", "Bulgaria", EU, 42.70, 23.32),
    ("Belgrade", "Serbia", EU, 44.79, 20.45), ("Zagreb", "Croatia", EU, 45.81, 15.98),
    ("Kyiv", "Ukraine", EU, 50.45, 30.52), ("Moscow", "Russia", EU, 55.76, 37.62),
    ("Saint Petersburg", "Russia", EU, 59.94, 30.32), ("Minsk", "Belarus", EU, 53.90, 27.56),
    ("Riga", "Latvia", EU, 56.95, 24.11), ("Vilnius", "Lithuania", EU, 54.69, 25.28),
    ("Tallinn", "Estonia", EU, 59.44, 24.75), ("Reykjavik", "Iceland", EU, 64.15, -21.94),
    ("Istanbul", "Turkey", EU, 41.01, 28.98), ("Seville", "Spain", EU, 37.39, -5.98),
    ("Porto", "Portugal", EU, 41.15, -8.61), ("Krakow", "Poland", EU, 50.06, 19.94),
    ("Bordeaux", "France", EU, 44.84, -0.58), ("Glasgow", "United Kingdom", EU, 55.86, -4.25),
    ("Liverpool", "United Kingdom", EU, 53.41, -2.98), ("Rotterdam", "Netherlands", EU, 51.92, 4.48),
    ("Cologne", "Germany", EU, 50.94, 6.96), ("Turin", "Italy", EU, 45.07, 7.69),
    ("Palermo", "Italy", EU, 38.12, 13.36), ("Thessaloniki", "Greece", EU, 40.64, 22.94),
    ("Bratislava", "Slovakia", EU, 48.15, 17.11), ("Ljubljana", "Slovenia", EU, 46.06, 14.51),
    ("Sarajevo", "Bosnia and Herzegovina", EU, 43.86, 18.41), ("Tirana", "Albania", EU, 41.33, 19.82),
    ("Skopje", "North Macedonia", EU, 42.00, 21.43), ("Chisinau", "Moldova", EU, 47.01, 28.86),
    ("Gdansk", "Poland", EU, 54.35, 18.65), ("Bergen", "Norway", EU, 60.39, 5.32),
    ("Gothenburg", "Sweden", EU, 57.71, 11.97), ("Antwerp", "Belgium", EU, 51.22, 4.40),
    ("Salzburg", "Austria", EU, 47.81, 13.04), ("Toulouse", "France", EU, 43.60, 1.44),
    ("Tokyo", "Japan", AS, 35.68, 139.69), ("Osaka", "Japan", AS, 34.69, 135.50),
    ("Kyoto", "Japan", AS, 35.01, 135.77), ("Seoul", "South Korea", AS, 37.57, 126.98),
    ("Busan", "South Korea", AS, 35.18, 129.08), ("Beijing", "China", AS, 39.90, 116.40),
    ("Shanghai", "China", AS, 31.23, 121.47), ("Hong Kong", "China", AS, 22.32, 114.17),
    ("Guangzhou", "China", AS, 23.13, 113.26), ("Shenzhen", "China", AS, 22.54, 114.06),
    ("Chengdu", "China", AS, 30.57, 104.07), ("Wuhan", "China", AS, 30.59, 114.31),
    ("Xi'an", "China", AS, 34.34, 108.94), ("Harbin", "China", AS, 45.80, 126.53),
    ("Taipei", "Taiwan", AS, 25.03, 121.57), ("Manila", "Philippines", AS, 14.60, 120.98),
    ("Hanoi", "Vietnam", AS, 21.03, 105.85), ("Ho Chi Minh City", "Vietnam", AS, 10.82, 106.63),
    ("Bangkok", "Thailand", AS, 13.76, 100.50), ("Kuala Lumpur", "Malaysia", AS, 3.14, 101.69),
    ("Singapore", "Singapore", AS, 1.35, 103.82), ("Jakarta", "Indonesia", AS, -6.21, 106.85),
    ("Surabaya", "Indonesia", AS, -7.25, 112.75), ("Phnom Penh", "Cambodia", AS, 11.56, 104.92),
    ("Yangon", "Myanmar", AS, 16.87, 96.20), ("Dhaka", "Bangladesh", AS, 23.81, 90.41),
    ("Kolkata", "India", AS, 22.57, 88.36), ("Mumbai", "India", AS, 19.08, 72.88),
    ("New Delhi", "India", AS, 28.61, 77.21), ("Bangalore", "India", AS, 12.97, 77.59),
    ("Chennai", "India", AS, 13.08, 80.27), ("Karachi", "Pakistan", AS, 24.86, 67.01),
    ("Lahore", "Pakistan", AS, 31.55, 74.34), ("Islamabad", "Pakistan", AS, 33.68, 73.05),
    ("Kabul", "Afghanistan", AS, 34.56, 69.21), ("Tehran", "Iran", AS, 35.69, 51.39),
    ("Baghdad", "Iraq", AS, 33.31, 44.36), ("Riyadh", "Saudi Arabia", AS, 24.71, 46.68),
    ("Mecca", "Saudi Arabia", AS, 21.39, 39.86), ("Dubai", "United Arab Emirates", AS, 25.20, 55.27),
    ("Doha", "Qatar", AS, 25.29, 51.53), ("Jerusalem", "Israel", AS, 31.77, 35.21),
    ("Tel Aviv", "Israel", AS, 32.09, 34.78), ("Beirut", "Lebanon", AS, 33.89, 35.50),
    ("Damascus", "Syria", AS, 33.51, 36.29), ("Amman", "Jordan", AS, 31.95, 35.93),
    ("Ankara", "Turkey", AS, 39.93, 32.86), ("Tashkent", "Uzbekistan", AS, 41.30, 69.24),
    ("Almaty", "Kazakhstan", AS, 43.24, 76.89), ("Ulaanbaatar", "Mongolia", AS, 47.89, 106.91),
    ("Kathmandu", "Nepal", AS, 27.72, 85.32), ("Colombo", "Sri Lanka", AS, 6.93, 79.86),
    ("Vladivostok", "Russia", AS, 43.12, 131.89), ("Novosibirsk", "Russia", AS, 55.01, 82.93),
    ("Baku", "Azerbaijan", AS, 40.41, 49.87), ("Tbilisi", "Georgia", AS, 41.72, 44.79),
    ("Yerevan", "Armenia", AS, 40.18, 44.51), ("Muscat", "Oman", AS, 23.59, 58.41),
    ("Kuwait City", "Kuwait", AS, 29.38, 47.99), ("Pyongyang", "North Korea", AS, 39.04, 125.76),
    ("Lhasa", "China", AS, 29.65, 91.12),
    ("Cairo", "Egypt", AF, 30.04, 31.24), ("Alexandria", "Egypt", AF, 31.20, 29.92),
    ("Lagos", "Nigeria", AF, 6.52, 3.38), ("Abuja", "Nigeria", AF, 9.08, 7.40),
    ("Nairobi", "Kenya", AF, -1.29, 36.82), ("Addis Ababa", "Ethiopia", AF, 9.03, 38.74),
    ("Johannesburg", "South Africa", AF, -26.20, 28.05), ("Cape Town", "South Africa", AF, -33.92, 18.42),
    ("Durban", "South Africa", AF, -29.86, 31.02), ("Pretoria", "South Africa", AF, -25.75, 28.19),
    ("Casablanca", "Morocco", AF, 33.57, -7.59), ("Marrakesh", "Morocco", AF, 31.63, -8.01),
    ("Algiers", "Algeria", AF, 36.75, 3.06), ("Tunis", "Tunisia", AF, 36.81, 10.18),
    ("Khartoum", "Sudan", AF, 15.50, 32.56), ("Kinshasa", "DR Congo", AF, -4.44, 15.27),
    ("Luanda", "Angola", AF, -8.84, 13.23), ("Accra", "Ghana", AF, 5.60, -0.19),
    ("Dakar", "Senegal", AF, 14.72, -17.47), ("Dar es Salaam", "Tanzania", AF, -6.79, 39.21),
    ("Kampala", "Uganda", AF, 0.35, 32.58), ("Kigali", "Rwanda", AF, -1.94, 30.06),
    ("Harare", "Zimbabwe", AF, -17.83, 31.05), ("Lusaka", "Zambia", AF, -15.39, 28.32),
    ("Maputo", "Mozambique", AF, -25.97, 32.57), ("Antananarivo", "Madagascar", AF, -18.88, 47.51),
    ("Mogadishu", "Somalia", AF, 2.05, 45.32), ("Timbuktu", "Mali", AF, 16.77, -3.01),
    ("Bamako", "Mali", AF, 12.64, -8.00), ("Abidjan", "Ivory Coast", AF, 5.36, -4.01),
    ("Windhoek", "Namibia", AF, -22.56, 17.08), ("Gaborone", "Botswana", AF, -24.65, 25.91),
    ("Freetown", "Sierra Leone", AF, 8.48, -13.23), ("Monrovia", "Liberia", AF, 6.30, -10.80),
    ("Mombasa", "Kenya", AF, -4.04, 39.67),
    ("New York City", "United States", NA, 40.71, -74.01), ("Los Angeles", "United States", NA, 34.05, -118.24),
    ("Chicago", "United States", NA, 41.88, -87.63), ("Houston", "United States", NA, 29.76, -95.37),
    ("Philadelphia", "United States", NA, 39.95, -75.17), ("San Francisco", "United States", NA, 37.77, -122.42),
    ("Seattle", "United States", NA, 47.61, -122.33), ("Boston", "United States", NA, 42.36, -71.06),
    ("Miami", "United States", NA, 25.76, -80.19), ("Atlanta", "United States", NA, 33.75, -84.39),
    ("Denver", "United States", NA, 39.74, -104.99), ("Las Vegas", "United States", NA, 36.17, -115.14),
    ("New Orleans", "United States", NA, 29.95, -90.07), ("Washington, D.C.", "United States", NA, 38.91, -77.04),
    ("Detroit", "United States", NA, 42.33, -83.05), ("Minneapolis", "United States", NA, 44.98, -93.27),
    ("Dallas", "United States", NA, 32.78, -96.80), ("San Diego", "United States", NA, 32.72, -117.16),
    ("Anchorage", "United States", NA, 61.22, -149.90), ("Honolulu", "United States", NA, 21.31, -157.86),
    ("Salt Lake City", "United States", NA, 40.76, -111.89), ("Nashville", "United States", NA, 36.16, -86.78),
    ("Pittsburgh", "United States", NA, 40.44, -80.00), ("St. Louis", "United States", NA, 38.63, -90.20),
    ("Austin", "United States", NA, 30.27, -97.74), ("Fairbanks", "United States", NA, 64.84, -147.72),
    ("Toronto", "Canada", NA, 43.65, -79.38), ("Montreal", "Canada", NA, 45.50, -73.57),
    ("Vancouver", "Canada", NA, 49.28, -123.12), ("Ottawa", "Canada", NA, 45.42, -75.70),
    ("Calgary", "Canada", NA, 51.05, -114.07), ("Winnipeg", "Canada", NA, 49.90, -97.14),
    ("Quebec City", "Canada", NA, 46.81, -71.21), ("Mexico City", "Mexico", NA, 19.43, -99.13),
    ("Guadalajara", "Mexico", NA, 20.67, -103.35), ("Monterrey", "Mexico", NA, 25.69, -100.32),
    ("Cancun", "Mexico", NA, 21.16, -86.85), ("Havana", "Cuba", NA, 23.11, -82.37),
    ("Panama City", "Panama", NA, 8.98, -79.52), ("San Juan", "Puerto Rico", NA, 18.47, -66.11),
    ("Guatemala City", "Guatemala", NA, 14.63, -90.51), ("Tegucigalpa", "Honduras", NA, 14.07, -87.19),
    ("Managua", "Nicaragua", NA, 12.11, -86.24), ("San Salvador", "El Salvador", NA, 13.69, -89.22),
    ("Santo Domingo", "Dominican Republic", NA, 18.49, -69.93), ("Port-au-Prince", "Haiti", NA, 18.59, -72.31),
    ("São Paulo", "Brazil", SA, -23.55, -46.63), ("Rio de Janeiro", "Brazil", SA, -22.91, -43.17),
    ("Brasília", "Brazil", SA, -15.79, -47.88), ("Manaus", "Brazil", SA, -3.12, -60.02),
    ("Recife", "Brazil", SA, -8.05, -34.88), ("Buenos Aires", "Argentina", SA, -34.60, -58.38),
    ("Mendoza", "Argentina", SA, -32.89, -68.84), ("Santiago de Chile", "Chile", SA, -33.45, -70.67),
    ("Valparaíso", "Chile", SA, -33.05, -71.62), ("Lima", "Peru", SA, -12.05, -77.04),
    ("Cusco", "Peru", SA, -13.53, -71.97), ("Bogotá", "Colombia", SA, 4.71, -74.07),
    ("Medellín", "Colombia", SA, 6.24, -75.58), ("Caracas", "Venezuela", SA, 10.48, -66.90),
    ("Quito", "Ecuador", SA, -0.18, -78.47), ("Guayaquil", "Ecuador", SA, -2.19, -79.89),
    ("La Paz", "Bolivia", SA, -16.50, -68.15), ("Asunción", "Paraguay", SA, -25.26, -57.58),
    ("Montevideo", "Uruguay", SA, -34.90, -56.16), ("Paramaribo", "Suriname", SA, 5.85, -55.20),
    ("Punta Arenas", "Chile", SA, -53.16, -70.91), ("Ushuaia", "Argentina", SA, -54.80, -68.30),
    ("Sydney", "Australia", OC, -33.87, 151.21), ("Melbourne", "Australia", OC, -37.81, 144.96),
    ("Brisbane", "Australia", OC, -27.47, 153.03), ("Perth", "Australia", OC, -31.95, 115.86),
    ("Adelaide", "Australia", OC, -34.93, 138.60), ("Canberra", "Australia", OC, -35.28, 149.13),
    ("Hobart", "Australia", OC, -42.88, 147.33), ("Alice Springs", "Australia", OC, -23.70, 133.88),
    ("Auckland", "New Zealand", OC, -36.85, 174.76), ("Christchurch", "New Zealand", OC, -43.53, 172.64),
    ("Suva", "Fiji", OC, -18.14, 178.44), ("Port Moresby", "Papua New Guinea", OC, -9.44, 147.18),
    ("Nouméa", "New Caledonia", OC, -22.28, 166.46),
]

LANDMARKS = [  # (name, country, continent, latitude, longitude)
    ("the Eiffel Tower", "France", EU, 48.86, 2.29), ("the Statue of Liberty", "United States", NA, 40.69, -74.04),
    ("Big Ben", "United Kingdom", EU, 51.50, -0.12), ("the Colosseum", "Italy", EU, 41.89, 12.49),
    ("the Leaning Tower of Pisa", "Italy", EU, 43.72, 10.40), ("the Sagrada Família", "Spain", EU, 41.40, 2.17),
    ("the Acropolis of Athens", "Greece", EU, 37.97, 23.73), ("the Brandenburg Gate", "Germany", EU, 52.52, 13.38),
    ("Red Square", "Russia", EU, 55.75, 37.62), ("Stonehenge", "United Kingdom", EU, 51.18, -1.83),
    ("Neuschwanstein Castle", "Germany", EU, 47.56, 10.75), ("Mont Saint-Michel", "France", EU, 48.64, -1.51),
    ("the Matterhorn", "Switzerland", EU, 45.98, 7.66), ("Mont Blanc", "France", EU, 45.83, 6.86),
    ("Mount Etna", "Italy", EU, 37.75, 14.99), ("Mount Vesuvius", "Italy", EU, 40.82, 14.43),
    ("Pompeii", "Italy", EU, 40.75, 14.49), ("the Alhambra", "Spain", EU, 37.18, -3.59),
    ("Buckingham Palace", "United Kingdom", EU, 51.50, -0.14), ("the Tower of London", "United Kingdom", EU, 51.51, -0.08),
    ("Notre-Dame de Paris", "France", EU, 48.85, 2.35), ("the Louvre", "France", EU, 48.86, 2.34),
    ("the Palace of Versailles", "France", EU, 48.80, 2.12), ("St. Peter's Basilica", "Vatican City", EU, 41.90, 12.46),
    ("the Hagia Sophia", "Turkey", EU, 41.01, 28.98), ("the Charles Bridge", "Czech Republic", EU, 50.09, 14.41),
    ("the Trevi Fountain", "Italy", EU, 41.90, 12.48), ("Bran Castle", "Romania", EU, 45.52, 25.37),
    ("Mount Olympus", "Greece", EU, 40.09, 22.36), ("Edinburgh Castle", "United Kingdom", EU, 55.95, -3.20),
    ("Loch Ness", "United Kingdom", EU, 57.30, -4.45), ("the Cliffs of Moher", "Ireland", EU, 52.97, -9.43),
    ("the Giant's Causeway", "United Kingdom", EU, 55.24, -6.51),
    ("the Great Pyramid of Giza", "Egypt", AF, 29.98, 31.13), ("Abu Simbel", "Egypt", AF, 22.34, 31.63),
    ("the Valley of the Kings", "Egypt", AF, 25.74, 32.60), ("Mount Kilimanjaro", "Tanzania", AF, -3.07, 37.36),
    ("Mount Kenya", "Kenya", AF, -0.15, 37.31), ("Victoria Falls", "Zambia", AF, -17.92, 25.86),
    ("Table Mountain", "South Africa", AF, -33.96, 18.40), ("the Serengeti", "Tanzania", AF, -2.33, 34.83),
    ("the Taj Mahal", "India", AS, 27.18, 78.04), ("the Golden Temple", "India", AS, 31.62, 74.88),
    ("the Forbidden City", "China", AS, 39.92, 116.40), ("the Terracotta Army", "China", AS, 34.38, 109.27),
    ("the Potala Palace", "China", AS, 29.66, 91.12), ("Mount Fuji", "Japan", AS, 35.36, 138.73),
    ("Tokyo Tower", "Japan", AS, 35.66, 139.75), ("Mount Everest", "Nepal", AS, 27.99, 86.93),
    ("Angkor Wat", "Cambodia", AS, 13.41, 103.87), ("the Shwedagon Pagoda", "Myanmar", AS, 16.80, 96.15),
    ("the Petronas Towers", "Malaysia", AS, 3.16, 101.71), ("Marina Bay Sands", "Singapore", AS, 1.28, 103.86),
    ("Borobudur", "Indonesia", AS, -7.61, 110.20), ("Petra", "Jordan", AS, 30.33, 35.44),
    ("the Dead Sea", "Israel", AS, 31.50, 35.50), ("the Western Wall", "Israel", AS, 31.78, 35.23),
    ("the Burj Khalifa", "United Arab Emirates", AS, 25.20, 55.27), ("Lake Baikal", "Russia", AS, 53.50, 108.00),
    ("the Golden Gate Bridge", "United States", NA, 37.82, -122.48), ("the Grand Canyon", "United States", NA, 36.11, -112.11),
    ("Niagara Falls", "Canada", NA, 43.08, -79.07), ("Mount Rushmore", "United States", NA, 43.88, -103.46),
    ("Yellowstone National Park", "United States", NA, 44.43, -110.59), ("Times Square", "United States", NA, 40.76, -73.99),
    ("the Empire State Building", "United States", NA, 40.75, -73.99), ("the Hollywood Sign", "United States", NA, 34.13, -118.32),
    ("the Brooklyn Bridge", "United States", NA, 40.71, -74.00), ("the CN Tower", "Canada", NA, 43.64, -79.39),
    ("the Space Needle", "United States", NA, 47.62, -122.35), ("Alcatraz Island", "United States", NA, 37.83, -122.42),
    ("the White House", "United States", NA, 38.90, -77.04), ("the Lincoln Memorial", "United States", NA, 38.89, -77.05),
    ("the Hoover Dam", "United States", NA, 36.02, -114.74), ("Mount St. Helens", "United States", NA, 46.19, -122.19),
    ("Kilauea", "United States", NA, 19.42, -155.29), ("Denali", "United States", NA, 63.07, -151.01),
    ("the Alamo", "United States", NA, 29.43, -98.49), ("Chichen Itza", "Mexico", NA, 20.68, -88.57),
    ("the Panama Canal", "Panama", NA, 9.08, -79.68),
    ("Machu Picchu", "Peru", SA, -13.16, -72.55), ("Christ the Redeemer", "Brazil", SA, -22.95, -43.21),
    ("Sugarloaf Mountain", "Brazil", SA, -22.95, -43.16), ("Iguazu Falls", "Argentina", SA, -25.69, -54.44),
    ("Angel Falls", "Venezuela", SA, 5.97, -62.54), ("the Perito Moreno Glacier", "Argentina", SA, -50.50, -73.14),
    ("Lake Titicaca", "Peru", SA, -15.90, -69.30), ("Easter Island", "Chile", SA, -27.11, -109.35),
    ("the Sydney Opera House", "Australia", OC, -33.86, 151.22), ("Uluru", "Australia", OC, -25.34, 131.04),
]

SCI, MUS, ART, LIT, PHI, POL, FILM, BUS, SPO, EXP = (
    "science", "music", "art", "literature", "philosophy", "politics", "film", "business", "sports", "exploration")

PEOPLE = [  # (name, field, birth year; negative = BCE)
    ("Albert Einstein", SCI, 1879), ("Marie Curie", SCI, 1867), ("Charles Darwin", SCI, 1809),
    ("Galileo Galilei", SCI, 1564), ("Nicolaus Copernicus", SCI, 1473), ("Johannes Kepler", SCI, 1571),
    ("Michael Faraday", SCI, 1791), ("James Clerk Maxwell", SCI, 1831), ("Nikola Tesla", SCI, 1856),
    ("Thomas Edison", SCI, 1847), ("Alexander Graham Bell", SCI, 1847), ("Louis Pasteur", SCI, 1822),
    ("Gregor Mendel", SCI, 1822), ("Dmitri Mendeleev", SCI, 1834), ("Niels Bohr", SCI, 1885),
    ("Werner Heisenberg", SCI, 1901), ("Erwin Schrödinger", SCI, 1887), ("Max Planck", SCI, 1858),
    ("Richard Feynman", SCI, 1918), ("Stephen Hawking", SCI, 1942), ("Alan Turing", SCI, 1912),
    ("Ada Lovelace", SCI, 1815), ("Charles Babbage", SCI, 1791), ("Rosalind Franklin", SCI, 1920),
    ("Enrico Fermi", SCI, 1901), ("J. Robert Oppenheimer", SCI, 1904), ("Carl Sagan", SCI, 1934),
    ("Alfred Nobel", SCI, 1833), ("Antoine Lavoisier", SCI, 1743), ("Robert Boyle", SCI, 1627),
    ("Blaise Pascal", SCI, 1623), ("René Descartes", PHI, 1596), ("Gottfried Wilhelm Leibniz", PHI, 1646),
    ("Leonhard Euler", SCI, 1707), ("Carl Friedrich Gauss", SCI, 1777), ("Bernhard Riemann", SCI, 1826),
    ("Henri Poincaré", SCI, 1854), ("Kurt Gödel", SCI, 1906), ("John von Neumann", SCI, 1903),
    ("Edwin Hubble", SCI, 1889), ("Ernest Rutherford", SCI, 1871), ("Paul Dirac", SCI, 1902),
    ("Linus Pauling", SCI, 1901), ("Sigmund Freud", SCI, 1856), ("Carl Jung", SCI, 1875),
    ("Ivan Pavlov", SCI, 1849), ("Alexander Fleming", SCI, 1881), ("Edward Jenner", SCI, 1749),
    ("Florence Nightingale", SCI, 1820), ("Tim Berners-Lee", SCI, 1955), ("Grace Hopper", SCI, 1906),
    ("Claude Shannon", SCI, 1916), ("James Watt", SCI, 1736), ("Benjamin Franklin", POL, 1706),
    ("Jane Goodall", SCI, 1934), ("Rachel Carson", SCI, 1907), ("Alexander von Humboldt", EXP, 1769),
    ("Carl Linnaeus", SCI, 1707), ("Tycho Brahe", SCI, 1546), ("Christiaan Huygens", SCI, 1629),
    ("Robert Hooke", SCI, 1635), ("Edmond Halley", SCI, 1656), ("Joseph Lister", SCI, 1827),
    ("Robert Koch", SCI, 1843), ("Wilhelm Röntgen", SCI, 1845), ("Max Born", SCI, 1882),
    ("Lise Meitner", SCI, 1878), ("Emmy Noether", SCI, 1882), ("Srinivasa Ramanujan", SCI, 1887),
    ("Richard Dawkins", SCI, 1941), ("Noam Chomsky", SCI, 1928),
    ("Johann Sebastian Bach", MUS, 1685), ("Wolfgang Amadeus Mozart", MUS, 1756), ("Ludwig van Beethoven", MUS, 1770),
    ("Frédéric Chopin", MUS, 1810), ("Franz Schubert", MUS, 1797), ("Richard Wagner", MUS, 1813),
    ("Giuseppe Verdi", MUS, 1813), ("Pyotr Ilyich Tchaikovsky", MUS, 1840), ("Johannes Brahms", MUS, 1833),
    ("Antonio Vivaldi", MUS, 1678), ("George Frideric Handel", MUS, 1685), ("Joseph Haydn", MUS, 1732),
    ("Franz Liszt", MUS, 1811), ("Claude Debussy", MUS, 1862), ("Igor Stravinsky", MUS, 1882),
    ("Gustav Mahler", MUS, 1860), ("Sergei Rachmaninoff", MUS, 1873), ("Robert Schumann", MUS, 1810),
    ("Felix Mendelssohn", MUS, 1809), ("Giacomo Puccini", MUS, 1858), ("Elvis Presley", MUS, 1935),
    ("John Lennon", MUS, 1940), ("Paul McCartney", MUS, 1942), ("Bob Dylan", MUS, 1941),
    ("Michael Jackson", MUS, 1958), ("Freddie Mercury", MUS, 1946), ("David Bowie", MUS, 1947),
    ("Louis Armstrong", MUS, 1901), ("Frank Sinatra", MUS, 1915), ("Jimi Hendrix", MUS, 1942),
    ("Bob Marley", MUS, 1945), ("Whitney Houston", MUS, 1963), ("Taylor Swift", MUS, 1989),
    ("Beyoncé", MUS, 1981), ("Ella Fitzgerald", MUS, 1917), ("Miles Davis", MUS, 1926),
    ("Duke Ellington", MUS, 1899), ("Aretha Franklin", MUS, 1942), ("Kurt Cobain", MUS, 1967),
    ("Johnny Cash", MUS, 1932),
    ("Leonardo da Vinci", ART, 1452), ("Michelangelo", ART, 1475), ("Rembrandt", ART, 1606),
    ("Johannes Vermeer", ART, 1632), ("Vincent van Gogh", ART, 1853), ("Claude Monet", ART, 1840),
    ("Pablo Picasso", ART, 1881), ("Salvador Dalí", ART, 1904), ("Frida Kahlo", ART, 1907),
    ("Andy Warhol", ART, 1928), ("Henri Matisse", ART, 1869), ("Paul Cézanne", ART, 1839),
    ("Pierre-Auguste Renoir", ART, 1841), ("Edgar Degas", ART, 1834), ("Gustav Klimt", ART, 1862),
    ("Edvard Munch", ART, 1863), ("Francisco Goya", ART, 1746), ("Diego Velázquez", ART, 1599),
    ("Caravaggio", ART, 1571), ("Albrecht Dürer", ART, 1471), ("Jackson Pollock", ART, 1912),
    ("Georgia O'Keeffe", ART, 1887), ("Auguste Rodin", ART, 1840), ("Wassily Kandinsky", ART, 1866),
    ("Paul Gauguin", ART, 1848), ("Peter Paul Rubens", ART, 1577), ("J. M. W. Turner", ART, 1775),
    ("William Shakespeare", LIT, 1564), ("Jane Austen", LIT, 1775), ("Charles Dickens", LIT, 1812),
    ("Leo Tolstoy", LIT, 1828), ("Fyodor Dostoevsky", LIT, 1821), ("Mark Twain", LIT, 1835),
    ("Ernest Hemingway", LIT, 1899), ("Virginia Woolf", LIT, 1882), ("James Joyce", LIT, 1882),
    ("Franz Kafka", LIT, 1883), ("Miguel de Cervantes", LIT, 1547), ("Johann Wolfgang von Goethe", LIT, 1749),
    ("Victor Hugo", LIT, 1802), ("Oscar Wilde", LIT, 1854), ("Edgar Allan Poe", LIT, 1809),
    ("Emily Dickinson", LIT, 1830), ("Walt Whitman", LIT, 1819), ("George Orwell", LIT, 1903),
    ("J. R. R. Tolkien", LIT, 1892), ("Agatha Christie", LIT, 1890), ("Gabriel García Márquez", LIT, 1927),
    ("Toni Morrison", LIT, 1931), ("Voltaire", PHI, 1694), ("Jean-Jacques Rousseau", PHI, 1712),
    ("Alexandre Dumas", LIT, 1802), ("Jules Verne", LIT, 1828), ("H. G. Wells", LIT, 1866),
    ("Arthur Conan Doyle", LIT, 1859), ("Lewis Carroll", LIT, 1832), ("Mary Shelley", LIT, 1797),
    ("Lord Byron", LIT, 1788), ("Percy Bysshe Shelley", LIT, 1792), ("John Keats", LIT, 1795),
    ("William Wordsworth", LIT, 1770), ("Emily Brontë", LIT, 1818), ("Charlotte Brontë", LIT, 1816),
    ("Herman Melville", LIT, 1819), ("F. Scott Fitzgerald", LIT, 1896), ("John Steinbeck", LIT, 1902),
    ("William Faulkner", LIT, 1897), ("Anton Chekhov", LIT, 1860), ("Alexander Pushkin", LIT, 1799),
    ("Rabindranath Tagore", LIT, 1861), ("Pablo Neruda", LIT, 1904), ("Jorge Luis Borges", LIT, 1899),
    ("Haruki Murakami", LIT, 1949), ("J. K. Rowling", LIT, 1965), ("Stephen King", LIT, 1947),
    ("Maya Angelou", LIT, 1928), ("Sylvia Plath", LIT, 1932), ("T. S. Eliot", LIT, 1888),
    ("Samuel Beckett", LIT, 1906), ("Albert Camus", LIT, 1913), ("Jean-Paul Sartre", PHI, 1905),
    ("Simone de Beauvoir", PHI, 1908), ("Hans Christian Andersen", LIT, 1805), ("Roald Dahl", LIT, 1916),
    ("Kurt Vonnegut", LIT, 1922), ("Ray Bradbury", LIT, 1920), ("Isaac Asimov", LIT, 1920),
    ("Harper Lee", LIT, 1926), ("George R. R. Martin", LIT, 1948),
    ("Immanuel Kant", PHI, 1724), ("Friedrich Nietzsche", PHI, 1844), ("Karl Marx", PHI, 1818),
    ("Friedrich Engels", PHI, 1820), ("Georg Wilhelm Friedrich Hegel", PHI, 1770), ("Arthur Schopenhauer", PHI, 1788),
    ("Søren Kierkegaard", PHI, 1813), ("John Locke", PHI, 1632), ("Thomas Hobbes", PHI, 1588),
    ("David Hume", PHI, 1711), ("Adam Smith", PHI, 1723), ("John Stuart Mill", PHI, 1806),
    ("Baruch Spinoza", PHI, 1632), ("Niccolò Machiavelli", PHI, 1469), ("Ludwig Wittgenstein", PHI, 1889),
    ("Bertrand Russell", PHI, 1872), ("Martin Heidegger", PHI, 1889), ("Hannah Arendt", PHI, 1906),
    ("Michel Foucault", PHI, 1926), ("Cicero", PHI, -106), ("Marcus Aurelius", POL, 121),
    ("Thomas More", PHI, 1478), ("John Maynard Keynes", PHI, 1883), ("Milton Friedman", PHI, 1912),
    ("George Washington", POL, 1732), ("Thomas Jefferson", POL, 1743), ("Abraham Lincoln", POL, 1809),
    ("Theodore Roosevelt", POL, 1858), ("Franklin D. Roosevelt", POL, 1882), ("John F. Kennedy", POL, 1917),
    ("Martin Luther King Jr.", POL, 1929), ("Barack Obama", POL, 1961), ("Winston Churchill", POL, 1874),
    ("Queen Victoria", POL, 1819), ("Queen Elizabeth I", POL, 1533), ("Henry VIII", POL, 1491),
    ("Napoleon Bonaparte", POL, 1769), ("Louis XIV", POL, 1638), ("Catherine the Great", POL, 1729),
    ("Peter the Great", POL, 1672), ("Otto von Bismarck", POL, 1815), ("Vladimir Lenin", POL, 1870),
    ("Adolf Hitler", POL, 1889), ("Benito Mussolini", POL, 1883), ("Mahatma Gandhi", POL, 1869),
    ("Jawaharlal Nehru", POL, 1889), ("Nelson Mandela", POL, 1918), ("Mao Zedong", POL, 1893),
    ("Deng Xiaoping", POL, 1904), ("Fidel Castro", POL, 1926), ("Che Guevara", POL, 1928),
    ("Simón Bolívar", POL, 1783), ("Charles de Gaulle", POL, 1890), ("Margaret Thatcher", POL, 1925),
    ("Angela Merkel", POL, 1954), ("Ronald Reagan", POL, 1911), ("Richard Nixon", POL, 1913),
    ("Dwight D. Eisenhower", POL, 1890), ("Julius Caesar", POL, -100), ("Augustus", POL, -63),
    ("Nero", POL, 37), ("Trajan", POL, 53), ("Hadrian", POL, 76), ("Marie Antoinette", POL, 1755),
    ("Martin Luther", PHI, 1483), ("John Calvin", PHI, 1509), ("Akbar the Great", POL, 1542),
    ("Frederick the Great", POL, 1712), ("Maria Theresa", POL, 1717), ("Queen Elizabeth II", POL, 1926),
    ("Susan B. Anthony", POL, 1820), ("Eleanor Roosevelt", POL, 1884), ("Rosa Parks", POL, 1913),
    ("Malcolm X", POL, 1925), ("Mother Teresa", POL, 1910), ("Pope John Paul II", POL, 1920),
    ("Vladimir Putin", POL, 1952), ("Donald Trump", POL, 1946), ("Joe Biden", POL, 1942),
    ("Bill Clinton", POL, 1946), ("Emperor Hirohito", POL, 1901), ("Sun Yat-sen", POL, 1866),
    ("Mustafa Kemal Atatürk", POL, 1881), ("Gamal Abdel Nasser", POL, 1918), ("Golda Meir", POL, 1898),
    ("Indira Gandhi", POL, 1917), ("John Adams", POL, 1735), ("James Madison", POL, 1751),
    ("Andrew Jackson", POL, 1767), ("Ulysses S. Grant", POL, 1822), ("Woodrow Wilson", POL, 1856),
    ("Harry S. Truman", POL, 1884), ("Lyndon B. Johnson", POL, 1908),
    ("Henry Ford", BUS, 1863), ("Walt Disney", FILM, 1901), ("Steve Jobs", BUS, 1955),
    ("Bill Gates", BUS, 1955), ("Elon Musk", BUS, 1971), ("Mark Zuckerberg", BUS, 1984),
    ("Jeff Bezos", BUS, 1964), ("Warren Buffett", BUS, 1930), ("Andrew Carnegie", BUS, 1835),
    ("John D. Rockefeller", BUS, 1839), ("Coco Chanel", BUS, 1883), ("Oprah Winfrey", FILM, 1954),
    ("Charlie Chaplin", FILM, 1889), ("Marilyn Monroe", FILM, 1926), ("Audrey Hepburn", FILM, 1929),
    ("Alfred Hitchcock", FILM, 1899), ("Steven Spielberg", FILM, 1946), ("Stanley Kubrick", FILM, 1928),
    ("Orson Welles", FILM, 1915), ("Marlon Brando", FILM, 1924), ("Meryl Streep", FILM, 1949),
    ("Tom Hanks", FILM, 1956), ("Leonardo DiCaprio", FILM, 1974), ("Bruce Lee", FILM, 1940),
    ("Muhammad Ali", SPO, 1942), ("Pelé", SPO, 1940), ("Diego Maradona", SPO, 1960),
    ("Lionel Messi", SPO, 1987), ("Cristiano Ronaldo", SPO, 1985), ("Michael Jordan", SPO, 1963),
    ("Serena Williams", SPO, 1981), ("Roger Federer", SPO, 1981), ("Usain Bolt", SPO, 1986),
    ("Babe Ruth", SPO, 1895), ("Jesse Owens", SPO, 1913),
    ("Neil Armstrong", EXP, 1930), ("Yuri Gagarin", EXP, 1934), ("Buzz Aldrin", EXP, 1930),
    ("Amelia Earhart", EXP, 1897), ("Orville Wright", EXP, 1871), ("Wilbur Wright", EXP, 1867),
    ("Charles Lindbergh", EXP, 1902), ("Roald Amundsen", EXP, 1872), ("Ernest Shackleton", EXP, 1874),
    ("James Cook", EXP, 1728),
]


def write(folder, rows, definition):
    d = ROOT / folder
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"{folder}.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(d / "dataset.json", "w", encoding="utf-8") as f:
        json.dump(definition, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{folder}: {len(rows)} rows")


def main():
    places = [dict(text="\n" + n, name=n, kind="city", country=c, continent=k, latitude=lat, longitude=lon)
              for n, c, k, lat, lon in CITIES]
    places += [dict(text="\n" + n, name=n, kind="landmark", country=c, continent=k, latitude=lat, longitude=lon)
               for n, c, k, lat, lon in LANDMARKS]
    names = [p["name"] for p in places]
    assert len(set(names)) == len(names), "duplicate place"
    for p in places:
        assert -90 <= p["latitude"] <= 90 and -180 <= p["longitude"] <= 180, p
    write("world-places", places, {
        "name": "world-places", "prompts": "world-places.jsonl", "text": "text", "label": "continent",
        "position": "last", "word": "country", "targets": ["latitude", "longitude"],
        "description": "cities and landmarks with latitude and longitude (Gurnee & Tegmark 2023 style)"})

    people = [dict(text="\n" + n, name=n, field=f, birth_year=y) for n, f, y in PEOPLE]
    names = [p["name"] for p in people]
    assert len(set(names)) == len(names), "duplicate person"
    write("people-years", people, {
        "name": "people-years", "prompts": "people-years.jsonl", "text": "text", "label": "field",
        "position": "last", "word": "name", "targets": ["birth_year"],
        "description": "famous people with their birth year (Gurnee & Tegmark 2023 style)"})


if __name__ == "__main__":
    main()
