"""Static material for the demo-data generator (``crm.demo.seed``).

Faker invents people and streets well, but its cities, postcodes and phone
numbers do not agree with one another, and it has no shop catalogue. So the
places (a real city with its state, postcode shape and dialling prefix), the
products and the campaign themes live here, as plain data, and ``crm.demo.seed``
draws from them with its one seeded ``random.Random``.

Patterns are filled per customer in SQL: ``#`` becomes a digit, ``%`` a digit
from 2 to 9 (so a local number never starts with 0 or 1) and ``?`` a capital
letter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    state: str
    zip_pattern: str
    landline_pattern: str


@dataclass(frozen=True)
class Country:
    name: str
    faker_locale: str
    weight: float
    # Empty where mobile and landline numbers look alike (the +1 area codes, Mexico).
    mobile_patterns: tuple[str, ...]
    email_domains: tuple[str, ...]
    cities: tuple[City, ...]
    # "{number}" and "{name}" in the local order, e.g. "{number} {name}" or "{name} {number}".
    street_format: str
    street_names: tuple[str, ...]
    # House-number patterns, filled like the others.
    house_numbers: tuple[str, ...] = ("%", "%#", "%#", "%##")


GLOBAL_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 40),
    ("outlook.com", 14),
    ("yahoo.com", 10),
    ("hotmail.com", 8),
    ("icloud.com", 8),
    ("proton.me", 4),
)
# Share of customers on a domain of their own country rather than a global one.
LOCAL_EMAIL_SHARE = 0.3

COUNTRIES: tuple[Country, ...] = (
    Country(
        "United States",
        "en_US",
        30,
        (),
        ("comcast.net", "att.net", "verizon.net", "aol.com"),
        (
            City("New York", "NY", "100##", "+1 (212) %##-####"),
            City("Los Angeles", "CA", "900##", "+1 (213) %##-####"),
            City("Chicago", "IL", "606##", "+1 (312) %##-####"),
            City("Houston", "TX", "770##", "+1 (713) %##-####"),
            City("Phoenix", "AZ", "850##", "+1 (602) %##-####"),
            City("Philadelphia", "PA", "191##", "+1 (215) %##-####"),
            City("San Antonio", "TX", "782##", "+1 (210) %##-####"),
            City("San Diego", "CA", "921##", "+1 (619) %##-####"),
            City("Dallas", "TX", "752##", "+1 (214) %##-####"),
            City("Austin", "TX", "787##", "+1 (512) %##-####"),
            City("Seattle", "WA", "981##", "+1 (206) %##-####"),
            City("Denver", "CO", "802##", "+1 (303) %##-####"),
            City("Boston", "MA", "021##", "+1 (617) %##-####"),
            City("Portland", "OR", "972##", "+1 (503) %##-####"),
            City("Atlanta", "GA", "303##", "+1 (404) %##-####"),
            City("Miami", "FL", "331##", "+1 (305) %##-####"),
            City("Minneapolis", "MN", "554##", "+1 (612) %##-####"),
            City("Nashville", "TN", "372##", "+1 (615) %##-####"),
            City("San Francisco", "CA", "941##", "+1 (415) %##-####"),
            City("Columbus", "OH", "432##", "+1 (614) %##-####"),
        ),
        "{number} {name}",
        (
            "Main Street",
            "Oak Avenue",
            "Maple Drive",
            "Cedar Lane",
            "Elm Street",
            "Washington Avenue",
            "Park Avenue",
            "Lakeshore Drive",
            "Sunset Boulevard",
            "Highland Avenue",
            "Pine Street",
            "Church Street",
            "Lincoln Road",
            "Jefferson Street",
            "Walnut Street",
            "Madison Avenue",
            "Franklin Street",
            "Broadway",
            "Hillcrest Drive",
            "Riverside Drive",
            "Chestnut Street",
            "Spring Street",
            "Willow Lane",
            "Forest Avenue",
        ),
        ("%#", "%##", "%##", "%###"),
    ),
    Country(
        "United Kingdom",
        "en_GB",
        12,
        ("+44 7%## ######",),
        ("btinternet.com", "sky.com", "virginmedia.com"),
        (
            City("London", "Greater London", "SE% #??", "+44 20 7### ####"),
            City("Manchester", "Greater Manchester", "M% #??", "+44 161 %## ####"),
            City("Birmingham", "West Midlands", "B% #??", "+44 121 %## ####"),
            City("Leeds", "West Yorkshire", "LS% #??", "+44 113 %## ####"),
            City("Glasgow", "Scotland", "G% #??", "+44 141 %## ####"),
            City("Edinburgh", "Scotland", "EH% #??", "+44 131 %## ####"),
            City("Bristol", "Bristol", "BS% #??", "+44 117 %## ####"),
            City("Liverpool", "Merseyside", "L% #??", "+44 151 %## ####"),
            City("Cardiff", "Wales", "CF% #??", "+44 29 20## ####"),
            City("Belfast", "Northern Ireland", "BT% #??", "+44 28 90## ####"),
        ),
        "{number} {name}",
        (
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "Green Lane",
            "Manor Road",
            "Park Road",
            "Queens Road",
            "Kings Road",
            "Mill Lane",
            "The Crescent",
            "Springfield Road",
            "Grange Road",
            "London Road",
            "New Road",
            "Windsor Road",
            "Albert Street",
            "York Road",
            "Chapel Street",
            "Orchard Close",
        ),
    ),
    Country(
        "Canada",
        "en_CA",
        8,
        (),
        ("shaw.ca", "rogers.com", "sympatico.ca"),
        (
            City("Toronto", "ON", "M%? #?#", "+1 (416) %##-####"),
            City("Vancouver", "BC", "V%? #?#", "+1 (604) %##-####"),
            City("Montréal", "QC", "H%? #?#", "+1 (514) %##-####"),
            City("Calgary", "AB", "T%? #?#", "+1 (403) %##-####"),
            City("Ottawa", "ON", "K%? #?#", "+1 (613) %##-####"),
            City("Edmonton", "AB", "T%? #?#", "+1 (780) %##-####"),
            City("Winnipeg", "MB", "R%? #?#", "+1 (204) %##-####"),
            City("Halifax", "NS", "B%? #?#", "+1 (902) %##-####"),
            City("Québec City", "QC", "G%? #?#", "+1 (418) %##-####"),
        ),
        "{number} {name}",
        (
            "King Street West",
            "Queen Street East",
            "Yonge Street",
            "Bloor Street West",
            "Main Street",
            "Maple Avenue",
            "Wellington Street",
            "Dundas Street",
            "Elgin Street",
            "Portage Avenue",
            "Jasper Avenue",
            "Robson Street",
            "Granville Street",
            "rue Saint-Denis",
            "rue Sherbrooke Ouest",
            "Spring Garden Road",
            "Bank Street",
            "College Street",
        ),
        ("%#", "%##", "%##", "%###"),
    ),
    Country(
        "Germany",
        "de_DE",
        10,
        ("+49 151 %#######", "+49 160 %######", "+49 176 %#######"),
        ("web.de", "gmx.de", "t-online.de"),
        (
            City("Berlin", "Berlin", "10###", "+49 30 %#######"),
            City("Hamburg", "Hamburg", "20###", "+49 40 %#######"),
            City("München", "Bayern", "80###", "+49 89 %#######"),
            City("Köln", "Nordrhein-Westfalen", "50###", "+49 221 %######"),
            City("Frankfurt am Main", "Hessen", "60###", "+49 69 %#######"),
            City("Stuttgart", "Baden-Württemberg", "70###", "+49 711 %######"),
            City("Düsseldorf", "Nordrhein-Westfalen", "40###", "+49 211 %######"),
            City("Leipzig", "Sachsen", "04###", "+49 341 %######"),
            City("Dresden", "Sachsen", "01###", "+49 351 %######"),
            City("Hannover", "Niedersachsen", "30###", "+49 511 %######"),
        ),
        "{name} {number}",
        (
            "Hauptstraße",
            "Schulstraße",
            "Gartenstraße",
            "Bahnhofstraße",
            "Dorfstraße",
            "Bergstraße",
            "Lindenstraße",
            "Kirchstraße",
            "Goethestraße",
            "Schillerstraße",
            "Friedrichstraße",
            "Mozartstraße",
            "Am Markt",
            "Ringstraße",
            "Waldweg",
            "Birkenweg",
            "Rosenstraße",
            "Berliner Allee",
            "Wiesenweg",
            "Parkstraße",
        ),
    ),
    Country(
        "France",
        "fr_FR",
        9,
        ("+33 6 ## ## ## ##", "+33 7 ## ## ## ##"),
        ("orange.fr", "free.fr", "laposte.net"),
        (
            City("Paris", "Île-de-France", "750##", "+33 1 %# ## ## ##"),
            City("Lyon", "Auvergne-Rhône-Alpes", "6900#", "+33 4 7# ## ## ##"),
            City("Marseille", "Provence-Alpes-Côte d'Azur", "130##", "+33 4 9# ## ## ##"),
            City("Toulouse", "Occitanie", "310##", "+33 5 6# ## ## ##"),
            City("Nice", "Provence-Alpes-Côte d'Azur", "060##", "+33 4 9# ## ## ##"),
            City("Nantes", "Pays de la Loire", "440##", "+33 2 4# ## ## ##"),
            City("Strasbourg", "Grand Est", "670##", "+33 3 8# ## ## ##"),
            City("Bordeaux", "Nouvelle-Aquitaine", "330##", "+33 5 5# ## ## ##"),
            City("Lille", "Hauts-de-France", "590##", "+33 3 2# ## ## ##"),
        ),
        "{number} {name}",
        (
            "rue de la République",
            "rue Victor Hugo",
            "avenue Jean Jaurès",
            "rue Pasteur",
            "boulevard Gambetta",
            "rue de la Paix",
            "place de la Mairie",
            "rue du Moulin",
            "avenue de la Gare",
            "rue des Écoles",
            "rue Nationale",
            "rue Voltaire",
            "avenue Foch",
            "rue Jules Ferry",
            "rue de l'Église",
            "boulevard Saint-Michel",
            "rue Émile Zola",
            "rue du Château",
        ),
    ),
    Country(
        "Spain",
        "es_ES",
        7,
        ("+34 6## ### ###",),
        ("telefonica.net", "hotmail.es", "yahoo.es"),
        (
            City("Madrid", "Madrid", "280##", "+34 91 %## ## ##"),
            City("Barcelona", "Barcelona", "080##", "+34 93 %## ## ##"),
            City("Valencia", "Valencia", "460##", "+34 96 %## ## ##"),
            City("Sevilla", "Sevilla", "410##", "+34 95 4## ## ##"),
            City("Zaragoza", "Zaragoza", "500##", "+34 976 ## ## ##"),
            City("Málaga", "Málaga", "290##", "+34 952 ## ## ##"),
            City("Bilbao", "Bizkaia", "480##", "+34 94 4## ## ##"),
            City("Palma", "Illes Balears", "070##", "+34 971 ## ## ##"),
        ),
        "{name}, {number}",
        (
            "Calle Mayor",
            "Calle Real",
            "Avenida de la Constitución",
            "Calle del Sol",
            "Gran Vía",
            "Calle de Alcalá",
            "Paseo de Gracia",
            "Calle Nueva",
            "Plaza de España",
            "Calle de la Iglesia",
            "Avenida de Andalucía",
            "Calle San Juan",
            "Calle Ancha",
            "Rambla de Catalunya",
            "Calle de Serrano",
            "Calle Luna",
        ),
    ),
    Country(
        "Mexico",
        "es_MX",
        6,
        (),
        ("prodigy.net.mx", "hotmail.com.mx"),
        (
            City("Ciudad de México", "CDMX", "06###", "+52 55 %### ####"),
            City("Guadalajara", "Jalisco", "44###", "+52 33 %### ####"),
            City("Monterrey", "Nuevo León", "64###", "+52 81 %### ####"),
            City("Puebla", "Puebla", "72###", "+52 222 %## ####"),
            City("Tijuana", "Baja California", "22###", "+52 664 %## ####"),
            City("Mérida", "Yucatán", "97###", "+52 999 %## ####"),
            City("Querétaro", "Querétaro", "76###", "+52 442 %## ####"),
        ),
        "{name} {number}",
        (
            "Avenida Paseo de la Reforma",
            "Avenida Insurgentes Sur",
            "Calle Hidalgo",
            "Calle Morelos",
            "Calle Juárez",
            "Avenida Revolución",
            "Calle 5 de Mayo",
            "Avenida Universidad",
            "Calle Allende",
            "Avenida Vallarta",
            "Calle Madero",
            "Calle Zaragoza",
            "Avenida Constitución",
            "Calle Guerrero",
            "Calle Independencia",
        ),
        ("%", "%#", "%##", "%###"),
    ),
    Country(
        "Australia",
        "en_AU",
        6,
        ("+61 4## ### ###",),
        ("bigpond.com", "optusnet.com.au"),
        (
            City("Sydney", "NSW", "20##", "+61 2 9### ####"),
            City("Melbourne", "VIC", "30##", "+61 3 9### ####"),
            City("Brisbane", "QLD", "40##", "+61 7 3### ####"),
            City("Perth", "WA", "60##", "+61 8 9### ####"),
            City("Adelaide", "SA", "50##", "+61 8 8### ####"),
            City("Canberra", "ACT", "26##", "+61 2 6### ####"),
            City("Hobart", "TAS", "70##", "+61 3 6### ####"),
            City("Gold Coast", "QLD", "42##", "+61 7 5### ####"),
        ),
        "{number} {name}",
        (
            "George Street",
            "Collins Street",
            "Queen Street",
            "Hay Street",
            "King William Street",
            "Bourke Street",
            "Pitt Street",
            "Elizabeth Street",
            "Military Road",
            "Beach Road",
            "Church Street",
            "Victoria Parade",
            "Anzac Parade",
            "High Street",
            "Station Street",
            "Ocean Drive",
            "Park Road",
        ),
    ),
    Country(
        "Italy",
        "it_IT",
        7,
        ("+39 3%# ### ####",),
        ("libero.it", "virgilio.it", "tiscali.it"),
        (
            City("Roma", "Lazio", "001##", "+39 06 %### ####"),
            City("Milano", "Lombardia", "201##", "+39 02 %### ####"),
            City("Napoli", "Campania", "801##", "+39 081 %## ####"),
            City("Torino", "Piemonte", "101##", "+39 011 %## ####"),
            City("Bologna", "Emilia-Romagna", "401##", "+39 051 %## ####"),
            City("Firenze", "Toscana", "501##", "+39 055 %## ####"),
            City("Palermo", "Sicilia", "901##", "+39 091 %## ####"),
            City("Venezia", "Veneto", "301##", "+39 041 %## ####"),
        ),
        "{name}, {number}",
        (
            "Via Roma",
            "Via Garibaldi",
            "Corso Vittorio Emanuele II",
            "Via Mazzini",
            "Via Dante Alighieri",
            "Piazza del Popolo",
            "Via Cavour",
            "Via Verdi",
            "Via Marconi",
            "Corso Italia",
            "Via Nazionale",
            "Via XX Settembre",
            "Via Manzoni",
            "Via Leopardi",
            "Viale Europa",
            "Via dei Mille",
        ),
    ),
    Country(
        "Netherlands",
        "nl_NL",
        5,
        ("+31 6 ########",),
        ("ziggo.nl", "kpnmail.nl", "xs4all.nl"),
        (
            City("Amsterdam", "Noord-Holland", "10%# ??", "+31 20 %## ####"),
            City("Rotterdam", "Zuid-Holland", "30%# ??", "+31 10 %## ####"),
            City("Den Haag", "Zuid-Holland", "25%# ??", "+31 70 %## ####"),
            City("Utrecht", "Utrecht", "35%# ??", "+31 30 %## ####"),
            City("Eindhoven", "Noord-Brabant", "56%# ??", "+31 40 %## ####"),
            City("Groningen", "Groningen", "97%# ??", "+31 50 %## ####"),
            City("Haarlem", "Noord-Holland", "20%# ??", "+31 23 %## ####"),
        ),
        "{name} {number}",
        (
            "Kerkstraat",
            "Dorpsstraat",
            "Schoolstraat",
            "Molenweg",
            "Stationsweg",
            "Julianastraat",
            "Wilhelminastraat",
            "Beatrixlaan",
            "Prinsengracht",
            "Keizersgracht",
            "Hoofdstraat",
            "Nieuwstraat",
            "Markt",
            "Parallelweg",
            "Kastanjelaan",
            "Lindenlaan",
            "Emmastraat",
        ),
    ),
)


@dataclass(frozen=True)
class ProductLine:
    """A product and the variants it may be sold in, each (suffix, price factor)."""

    name: str
    price: float
    variants: tuple[tuple[str, float], ...] = (("", 1.0),)
    # Gift cards keep their face value; everything else gets a shop-like price.
    exact_price: bool = False


@dataclass(frozen=True)
class Category:
    name: str
    # How often this category's products end up in a basket, relative to others.
    popularity: float
    lines: tuple[ProductLine, ...]


_BEANS = (("250 g", 1.0), ("500 g", 1.85), ("1 kg", 3.4))
_LOOSE_TEA = (("20 sachets", 1.0), ("100 g loose", 1.3), ("250 g loose", 2.6))
_BAKED = (("", 1.0), ("box of 6", 5.2))
_COLOURS = (("Slate Grey", 1.0), ("Ocean Blue", 1.0), ("Sand", 1.0), ("Sage Green", 1.0))
_SIZES = (("S", 1.0), ("M", 1.0), ("L", 1.0), ("XL", 1.0))
_BINDINGS = (("Hardcover", 1.0), ("Paperback", 0.62))

CATALOGUE: tuple[Category, ...] = (
    Category(
        "Coffee",
        4.0,
        (
            ProductLine("House Espresso Blend", 11.5, _BEANS),
            ProductLine("Breakfast Blend", 10.9, _BEANS),
            ProductLine("French Roast", 11.5, _BEANS),
            ProductLine("Mocha Java Blend", 13.7, _BEANS),
            ProductLine("Ethiopia Yirgacheffe", 14.9, _BEANS),
            ProductLine("Colombia Huila", 13.5, _BEANS),
            ProductLine("Guatemala Antigua", 13.9, _BEANS),
            ProductLine("Brazil Cerrado", 11.9, _BEANS),
            ProductLine("Sumatra Mandheling", 14.5, _BEANS),
            ProductLine("Kenya Nyeri AA", 16.5, _BEANS),
            ProductLine("Costa Rica Tarrazú", 14.2, _BEANS),
            ProductLine("Rwanda Huye Mountain", 15.4, _BEANS),
            ProductLine("Swiss Water Decaf", 13.0, _BEANS),
            ProductLine("Cold Brew Coarse Grind", 12.5, _BEANS),
        ),
    ),
    Category(
        "Tea",
        2.5,
        (
            ProductLine("English Breakfast", 6.5, _LOOSE_TEA),
            ProductLine("Earl Grey", 7.2, _LOOSE_TEA),
            ProductLine("Darjeeling First Flush", 11.9, _LOOSE_TEA),
            ProductLine("Japanese Sencha", 9.5, _LOOSE_TEA),
            ProductLine("Jasmine Pearls", 14.0, _LOOSE_TEA),
            ProductLine("Chamomile", 6.0, _LOOSE_TEA),
            ProductLine("Peppermint", 5.8, _LOOSE_TEA),
            ProductLine("Rooibos Vanilla", 7.5, _LOOSE_TEA),
            ProductLine("Masala Chai", 8.2, _LOOSE_TEA),
            ProductLine("Tie Guan Yin Oolong", 12.5, _LOOSE_TEA),
            ProductLine("Lemon & Ginger", 6.4, _LOOSE_TEA),
            ProductLine("Ceremonial Matcha", 24.0, (("30 g tin", 1.0), ("100 g tin", 2.9))),
        ),
    ),
    Category(
        "Bakery",
        3.5,
        (
            ProductLine("Butter Croissant", 2.8, _BAKED),
            ProductLine("Pain au Chocolat", 3.2, _BAKED),
            ProductLine("Almond Croissant", 3.9, _BAKED),
            ProductLine("Cinnamon Roll", 3.6, _BAKED),
            ProductLine("Blueberry Muffin", 3.2, _BAKED),
            ProductLine("Chocolate Chip Cookie", 2.2, _BAKED),
            ProductLine("Oat & Raisin Cookie", 2.1, _BAKED),
            ProductLine("Plain Bagel", 2.0, _BAKED),
            ProductLine("Fruit Scone", 2.6, _BAKED),
            ProductLine("Cheese Danish", 3.5, _BAKED),
            ProductLine("Sourdough Loaf", 6.5),
            ProductLine("Brioche Loaf", 5.9),
            ProductLine("Rosemary Focaccia", 5.5),
            ProductLine("Banana Bread", 3.4, (("slice", 1.0), ("whole loaf", 4.1))),
            ProductLine("Carrot Cake", 4.2, (("slice", 1.0), ("whole cake", 7.5))),
            ProductLine("Lemon Drizzle Cake", 3.8, (("slice", 1.0), ("whole cake", 7.2))),
        ),
    ),
    Category(
        "Chocolate & Sweets",
        1.6,
        (
            ProductLine("Dark Chocolate 70% Bar", 4.5),
            ProductLine("Milk Chocolate Hazelnut Bar", 4.2),
            ProductLine("Salted Caramel Truffles", 12.9, (("box of 9", 1.0), ("box of 16", 1.7))),
            ProductLine("Chocolate Espresso Beans", 6.9),
            ProductLine("Almond Biscotti", 5.9),
            ProductLine("Caramel Stroopwafels", 4.8),
            ProductLine("Butter Shortbread", 5.2),
            ProductLine("French Macarons", 14.0, (("box of 6", 1.0), ("box of 12", 1.8))),
            ProductLine("Gingerbread Biscuits", 5.5),
            ProductLine("Hot Chocolate Flakes", 8.9),
            ProductLine("Honey Nougat", 6.5),
        ),
    ),
    Category(
        "Pantry",
        1.2,
        (
            ProductLine("Acacia Honey 340 g", 8.5),
            ProductLine("Maple Syrup 250 ml", 11.9),
            ProductLine("Strawberry Jam", 5.4),
            ProductLine("Seville Orange Marmalade", 5.2),
            ProductLine("Vanilla Syrup", 7.5),
            ProductLine("Caramel Syrup", 7.5),
            ProductLine("Hazelnut Syrup", 7.5),
            ProductLine("Maple Pecan Granola", 6.9),
            ProductLine("Barista Oat Milk 1 l", 2.9),
            ProductLine("Almond Butter", 8.9),
            ProductLine("Extra Virgin Olive Oil 500 ml", 12.5),
            ProductLine("Cocoa Powder", 6.2),
            ProductLine("Raw Cane Sugar", 3.2),
        ),
    ),
    Category(
        "Kitchen",
        0.6,
        (
            ProductLine("Stoneware Mug", 14.0, _COLOURS),
            ProductLine("Travel Tumbler 350 ml", 22.0, _COLOURS),
            ProductLine("Espresso Cups, Set of 2", 18.0),
            ProductLine("Latte Glasses, Set of 4", 24.0),
            ProductLine("Milk Jug 350 ml", 16.0),
            ProductLine("Linen Tea Towel", 9.5),
            ProductLine("Oak Serving Board", 29.0),
            ProductLine("Loaf Tin", 15.0),
            ProductLine("Glass Storage Jar", 12.0),
            ProductLine("Enamel Canister", 19.0, _COLOURS),
        ),
    ),
    Category(
        "Brewing Gear",
        0.5,
        (
            ProductLine("Pour-Over Dripper", 24.0, (("ceramic", 1.0), ("glass", 0.9))),
            ProductLine("French Press 1 l", 34.0),
            ProductLine("AeroPress Coffee Maker", 39.0),
            ProductLine("Stovetop Moka Pot, 6 Cup", 42.0),
            ProductLine("Conical Burr Grinder", 129.0),
            ProductLine("Hand Grinder", 59.0),
            ProductLine("Gooseneck Kettle", 69.0),
            ProductLine("Brewing Scale with Timer", 45.0),
            ProductLine("Paper Filters, Pack of 100", 6.5),
            ProductLine("Cold Brew Bottle", 29.0),
            ProductLine("Milk Frother", 35.0),
            ProductLine("Tea Infuser", 9.9),
            ProductLine("Glass Teapot 800 ml", 32.0),
            ProductLine("Espresso Tamper", 27.0),
        ),
    ),
    Category(
        "Books",
        0.35,
        (
            ProductLine("The Home Barista Handbook", 24.0, _BINDINGS),
            ProductLine("Tea: A Field Guide", 21.0, _BINDINGS),
            ProductLine("Sourdough at Home", 27.0, _BINDINGS),
            ProductLine("Slow Mornings: Breakfast Recipes", 23.0, _BINDINGS),
            ProductLine("The Little Book of Biscuits", 14.0, _BINDINGS),
            ProductLine("An Atlas of Coffee Origins", 35.0, _BINDINGS),
            ProductLine("Baking with Children", 19.0, _BINDINGS),
            ProductLine("The Chocolate Maker's Notebook", 26.0, _BINDINGS),
            ProductLine("Latte Art Basics", 18.0, _BINDINGS),
            ProductLine("A Year of Cakes", 29.0, _BINDINGS),
            ProductLine("Tea Rituals of the World", 25.0, _BINDINGS),
        ),
    ),
    Category(
        "Apparel",
        0.35,
        (
            ProductLine("Logo T-Shirt", 24.0, _SIZES),
            ProductLine("Heavyweight Hoodie", 49.0, _SIZES),
            ProductLine("Barista Apron", 32.0, (("Black", 1.0), ("Denim", 1.1), ("Tan", 1.0))),
            ProductLine("Knit Beanie", 22.0),
            ProductLine("Canvas Tote Bag", 16.0),
            ProductLine("Embroidered Cap", 20.0),
            ProductLine("Coffee Bean Socks", 12.0),
        ),
    ),
    Category(
        "Gifts",
        0.5,
        (
            ProductLine(
                "Gift Card", 25.0, (("25", 1.0), ("50", 2.0), ("100", 4.0)), exact_price=True
            ),
            ProductLine("Coffee Lover's Gift Box", 45.0),
            ProductLine("Tea Sampler Box", 32.0),
            ProductLine("Single-Origin Tasting Flight", 38.0),
            ProductLine("Advent Calendar", 34.0),
            ProductLine("Coffee Subscription", 39.0, (("3 months", 1.0), ("6 months", 1.9))),
            ProductLine("Greeting Card", 4.0),
            ProductLine("Breakfast Hamper", 65.0),
        ),
    ),
)


@dataclass(frozen=True)
class CampaignTheme:
    """A campaign idea for one month of the year, with a template per channel."""

    month: int
    name: str
    email: str
    sms: str
    push: str


# Merge fields are written as "[First Name]" and "[Last Name]"; the app fills them per customer.
CAMPAIGN_THEMES: tuple[CampaignTheme, ...] = (
    CampaignTheme(
        1,
        "New Year Coffee Reset",
        "Hi [First Name],\n\nNew year, new beans. Start January with 15% off every single-origin"
        " coffee and find your new favourite cup.\n\nSee you soon!",
        "[First Name], start the year right: 15% off single-origin coffee this week.",
        "New year, new beans: 15% off single origins ☕",
    ),
    CampaignTheme(
        2,
        "Valentine's Chocolate Edit",
        "Hi [First Name],\n\nOur truffles and macarons are back for Valentine's Day. Order by"
        " the 12th for delivery in time, gift wrapping included.",
        "[First Name], truffles & macarons are back for Valentine's. Order by the 12th!",
        "Valentine's treats are here 💝",
    ),
    CampaignTheme(
        3,
        "Spring Tea Collection",
        "Hello [First Name],\n\nFirst-flush Darjeeling and fresh Sencha have just arrived."
        " Taste spring with our new tea collection.",
        "Hi [First Name], first-flush teas just landed. Taste spring in every cup.",
        "First-flush teas have arrived 🍃",
    ),
    CampaignTheme(
        4,
        "Easter Baking Favourites",
        "Hi [First Name],\n\nHot cross buns, cinnamon rolls and a new carrot cake: our Easter"
        " baking is in store this weekend only.",
        "[First Name], Easter baking is in store this weekend only. See you there!",
        "Easter baking is in store this weekend 🐣",
    ),
    CampaignTheme(
        5,
        "Mother's Day Gifts",
        "Dear [First Name],\n\nSpoil someone special: gift boxes, hampers and cards, wrapped"
        " and delivered with your own message.",
        "[First Name], Mother's Day gift boxes ship free until Friday.",
        "Mother's Day gift boxes ship free 💐",
    ),
    CampaignTheme(
        6,
        "Summer Cold Brew Launch",
        "Hi [First Name],\n\nOur cold brew bottle is back, with a new coarse grind made for it."
        " Stay cool all summer.",
        "Cold brew season, [First Name]! New coarse grind + bottle bundle, 20% off.",
        "Cold brew season is here 🧊",
    ),
    CampaignTheme(
        7,
        "Summer Sale",
        "Hi [First Name] [Last Name],\n\nUp to 30% off brewing gear, mugs and tumblers while"
        " stocks last. Happy summer!",
        "[First Name], summer sale: up to 30% off brewing gear. Ends Sunday.",
        "Summer sale: up to 30% off ☀️",
    ),
    CampaignTheme(
        8,
        "Back to Routine",
        "Hi [First Name],\n\nBack to early mornings? A coffee subscription means you never"
        " run out. First bag on us.",
        "[First Name], never run out: first bag free with any subscription.",
        "Never run out of coffee again",
    ),
    CampaignTheme(
        9,
        "Autumn Roasts Are Here",
        "Hello [First Name],\n\nDeeper roasts for shorter days. Meet our autumn line-up, with"
        " tasting notes of caramel, cocoa and spice.",
        "Hi [First Name], our autumn roasts are in. Caramel, cocoa & spice.",
        "Autumn roasts just landed 🍂",
    ),
    CampaignTheme(
        10,
        "Pumpkin Spice Season",
        "Hi [First Name],\n\nYou know what October means. Pumpkin spice syrup, chai and"
        " gingerbread are back in store and online.",
        "[First Name], pumpkin spice is back! In store and online now.",
        "Pumpkin spice is back 🎃",
    ),
    CampaignTheme(
        11,
        "Black Friday Early Access",
        "Hi [First Name],\n\nAs one of our regulars you get early access: 25% off everything"
        " from today until Cyber Monday.",
        "[First Name], Black Friday early access: 25% off everything. Starts now.",
        "Early access: 25% off everything 🖤",
    ),
    CampaignTheme(
        12,
        "Holiday Gift Guide",
        "Dear [First Name],\n\nGift boxes, advent calendars and gift cards for everyone on"
        " your list. Order by December 18th for delivery before the holidays.",
        "[First Name], last days for holiday delivery: order by Dec 18th.",
        "Holiday gifts for everyone on your list 🎁",
    ),
)


@dataclass(frozen=True)
class MessageTemplate:
    channel: str
    subject: str
    body: str


# One-to-one messages a shop assistant might send; merged with the customer's name.
MESSAGE_TEMPLATES: tuple[MessageTemplate, ...] = (
    MessageTemplate(
        "Email",
        "Thank you for your order",
        "Hi [First Name],\n\nThank you for shopping with us. Your order is on its way;"
        " we hope you enjoy it!",
    ),
    MessageTemplate(
        "Email",
        "We miss you",
        "Hi [First Name],\n\nIt has been a while since your last visit. Here is 10% off your"
        " next order, valid for 30 days.",
    ),
    MessageTemplate(
        "Email",
        "Your loyalty reward",
        "Dear [First Name] [Last Name],\n\nThanks for being one of our regulars. Your next"
        " coffee is on the house.",
    ),
    MessageTemplate(
        "Email",
        "Happy birthday!",
        "Happy birthday, [First Name]! Drop by this week for a free slice of cake.",
    ),
    MessageTemplate(
        "SMS",
        "",
        "Hi [First Name], your special order is ready for pickup.",
    ),
    MessageTemplate(
        "SMS",
        "",
        "[First Name], thanks for visiting today! Tell us how we did: reply 1-5.",
    ),
)
