"""Embedded word lists: given names, family names, short forms and place descriptions.

The lists are written here rather than read from a data file so that the generator needs nothing
but this package. They mix names common among older and younger people in England, since the
synthetic population spans ages 0 to 90.
"""

from __future__ import annotations

MALE_FORENAMES: tuple[str, ...] = (
    "Aaron", "Adam", "Aiden", "Alan", "Alexander", "Alfie", "Andrew", "Anthony", "Archie",
    "Arthur", "Barry", "Benjamin", "Bradley", "Brian", "Callum", "Cameron", "Charles", "Charlie",
    "Christopher", "Colin", "Connor", "Craig", "Daniel", "Darren", "David", "Dean", "Dylan",
    "Edward", "Elliot", "Ethan", "Finley", "Frederick", "Gareth", "Gary", "George", "Gordon",
    "Graham", "Gregory", "Harrison", "Harry", "Harvey", "Henry", "Ian", "Isaac", "Jack", "Jacob",
    "Jake", "James", "Jamie", "Jason", "Jayden", "Jonathan", "Joseph", "Joshua", "Jude", "Kai",
    "Keith", "Kenneth", "Kevin", "Kieran", "Kyle", "Leo", "Lee", "Lewis", "Liam", "Logan",
    "Louis", "Luke", "Malcolm", "Mark", "Martin", "Mason", "Matthew", "Michael", "Mohammed",
    "Nathan", "Neil", "Nicholas", "Noah", "Oliver", "Oscar", "Patrick", "Paul", "Peter", "Philip",
    "Reece", "Richard", "Riley", "Robert", "Ryan", "Samuel", "Scott", "Sean", "Simon", "Stephen",
    "Steven", "Stuart", "Theodore", "Thomas", "Timothy", "Tyler", "William", "Zachary",
)  # fmt: skip

FEMALE_FORENAMES: tuple[str, ...] = (
    "Abigail", "Aimee", "Alexandra", "Alice", "Alison", "Amber", "Amelia", "Amy", "Angela",
    "Anna", "Ava", "Barbara", "Bethany", "Caroline", "Catherine", "Charlotte", "Chloe", "Christine",
    "Claire", "Daisy", "Danielle", "Deborah", "Donna", "Eleanor", "Elizabeth", "Ella", "Ellie",
    "Emily", "Emma", "Evie", "Faith", "Florence", "Freya", "Gemma", "Georgia", "Grace", "Hannah",
    "Harriet", "Heather", "Helen", "Holly", "Imogen", "Isabella", "Isla", "Jacqueline", "Jade",
    "Jane", "Jennifer", "Jessica", "Joanne", "Julie", "Karen", "Katherine", "Kayleigh", "Kelly",
    "Kimberley", "Laura", "Lauren", "Leah", "Lily", "Linda", "Lisa", "Louise", "Lucy", "Maisie",
    "Margaret", "Maria", "Megan", "Melissa", "Mia", "Michelle", "Molly", "Natalie", "Nicola",
    "Olivia", "Paige", "Patricia", "Phoebe", "Poppy", "Rachel", "Rebecca", "Rosie", "Ruby",
    "Ruth", "Samantha", "Sandra", "Sarah", "Scarlett", "Sharon", "Shannon", "Sophie", "Stephanie",
    "Susan", "Tracey", "Victoria", "Wendy", "Willow", "Yasmin", "Zara", "Zoe",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Adams", "Ahmed", "Ali", "Allen", "Anderson", "Armstrong", "Atkinson", "Bailey", "Baker",
    "Barker", "Barnes", "Bates", "Begum", "Bell", "Bennett", "Berry", "Bird", "Bishop", "Black",
    "Booth", "Bradley", "Brooks", "Brown", "Bryant", "Burton", "Butler", "Campbell", "Carr",
    "Carter", "Chambers", "Chapman", "Clark", "Clarke", "Cole", "Collins", "Cook", "Cooper",
    "Cox", "Cunningham", "Davies", "Davis", "Dawson", "Day", "Dixon", "Doyle", "Duncan", "Edwards",
    "Elliott", "Ellis", "Evans", "Fisher", "Fletcher", "Ford", "Foster", "Fox", "Francis",
    "Fraser", "Gardner", "George", "Gibson", "Gill", "Gordon", "Graham", "Grant", "Gray", "Green",
    "Griffiths", "Hall", "Hamilton", "Harper", "Harris", "Harrison", "Hart", "Harvey", "Hill",
    "Holmes", "Hopkins", "Howard", "Hughes", "Hunt", "Hussain", "Jackson", "James", "Jenkins",
    "Johnson", "Johnston", "Jones", "Kaur", "Kelly", "Kennedy", "Khan", "King", "Knight", "Lane",
    "Lawrence", "Lawson", "Lee", "Lewis", "Lloyd", "Marshall", "Martin", "Mason", "Matthews",
    "Miller", "Mills", "Mitchell", "Moore", "Morgan", "Morris", "Murphy", "Murray", "Newman",
    "Nicholson", "O'Brien", "O'Connor", "Owen", "Palmer", "Parker", "Patel", "Payne", "Pearce",
    "Pearson", "Perry", "Phillips", "Porter", "Powell", "Price", "Reid", "Reynolds", "Richards",
    "Richardson", "Riley", "Roberts", "Robertson", "Robinson", "Rogers", "Rose", "Ross",
    "Russell", "Ryan", "Saunders", "Scott", "Shah", "Sharp", "Shaw", "Simpson", "Singh",
    "Smith", "Spencer", "Stevens", "Stewart", "Stone", "Sutton", "Taylor", "Thomas", "Thompson",
    "Thomson", "Turner", "Walker", "Wallace", "Walsh", "Ward", "Watson", "Watts", "Webb",
    "Wells", "West", "White", "Wilkinson", "Williams", "Williamson", "Wilson", "Wood", "Woods",
    "Wright", "Young", "Armitage", "Bancroft", "Carver", "Dunn", "Eaton", "Farrell", "Gilbert",
    "Hadley", "Ingram", "Jarvis", "Kirby", "Lowe", "McDonald", "Nash", "Osborne", "Pritchard",
    "Quinn", "Rowe", "Slater", "Tucker", "Vaughan", "Whitehead", "Yates", "Smith-Jones",
)  # fmt: skip

# Everyday short forms that agencies record instead of the registered name (the first one is the
# commonest); a linkage model has to treat them as the same forename.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Alexander": ("Alex", "Sandy"),
    "Alexandra": ("Alex", "Lexi"),
    "Abigail": ("Abbie", "Abby"),
    "Andrew": ("Andy", "Drew"),
    "Anthony": ("Tony", "Ant"),
    "Benjamin": ("Ben", "Benji"),
    "Catherine": ("Cathy", "Kate"),
    "Charles": ("Charlie", "Chas"),
    "Charlotte": ("Lottie", "Charlie"),
    "Christopher": ("Chris", "Kit"),
    "Christine": ("Chris", "Chrissie"),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave", "Davy"),
    "Deborah": ("Debbie", "Deb"),
    "Edward": ("Ed", "Eddie"),
    "Eleanor": ("Ellie", "Nell"),
    "Elizabeth": ("Liz", "Beth"),
    "Frederick": ("Fred", "Freddie"),
    "Gregory": ("Greg",),
    "Harrison": ("Harry",),
    "Henry": ("Harry", "Hal"),
    "Isabella": ("Bella", "Izzy"),
    "Jacob": ("Jake",),
    "Jacqueline": ("Jackie",),
    "James": ("Jim", "Jamie"),
    "Jennifer": ("Jenny", "Jen"),
    "Jessica": ("Jess",),
    "Jonathan": ("Jon", "Jonny"),
    "Joseph": ("Joe", "Joey"),
    "Joshua": ("Josh",),
    "Katherine": ("Kate", "Katie"),
    "Kenneth": ("Ken", "Kenny"),
    "Kimberley": ("Kim",),
    "Margaret": ("Maggie", "Peggy"),
    "Matthew": ("Matt",),
    "Michael": ("Mike", "Mick"),
    "Natalie": ("Nat",),
    "Nicholas": ("Nick", "Nicky"),
    "Nicola": ("Nicky",),
    "Oliver": ("Ollie",),
    "Patricia": ("Pat", "Trish"),
    "Patrick": ("Pat", "Paddy"),
    "Peter": ("Pete",),
    "Philip": ("Phil",),
    "Rebecca": ("Becky", "Becca"),
    "Richard": ("Rich", "Dick"),
    "Robert": ("Bob", "Rob"),
    "Samantha": ("Sam", "Sammy"),
    "Samuel": ("Sam", "Sammy"),
    "Stephanie": ("Steph",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Susan": ("Sue", "Susie"),
    "Theodore": ("Theo", "Ted"),
    "Thomas": ("Tom", "Tommy"),
    "Timothy": ("Tim",),
    "Victoria": ("Vicky", "Tori"),
    "William": ("Will", "Bill"),
    "Zachary": ("Zach", "Zak"),
}

# Ward names, used in order; each local authority's first ward is named after its town centre.
WARD_WORDS: tuple[str, ...] = (
    "Abbey", "Castle", "Market", "Priory", "Riverside", "Meadows", "Hillside", "Brookside",
    "Grange", "Parkside", "Orchard", "Mill", "St Andrew's", "Fenside", "Heath", "Westgate",
    "Eastgate", "Northgate", "Southgate", "Chapel", "Cross", "Dale", "Elmfield", "Fairfield",
    "Greenway", "Highfield", "Kingsmead", "Lakeside", "Manor", "Newtown", "Oakwood", "Pinewood",
    "Queensway", "Redhill", "Stonebridge", "Thornfield", "Upton", "Valley", "Woodlands",
    "Ashfield", "Beacon", "Claypit", "Dovecote", "Eastfield", "Fordham", "Glebe", "Hollybush",
    "Longmeadow", "Moorside", "Netherfield",
)  # fmt: skip

# Free-text assault locations as an emergency department clerk might type them, by the ISTV
# location type; they name no real place.
LOCATION_TEXT: dict[str, tuple[str, ...]] = {
    "Home": ("at home", "at a friend's flat", "in the kitchen at home", "at a house party"),
    "Street": (
        "outside a shop on the high street",
        "at a bus stop",
        "on the footpath by the river",
        "in an alley behind the shops",
        "outside the takeaway",
        "near the cash machine",
    ),
    "Licensed premises": (
        "inside a pub in the town centre",
        "outside a nightclub",
        "in the smoking area of a bar",
    ),
    "Workplace": ("at work", "in the car park at work"),
    "School": ("near the school gates", "on the playing field after school"),
    "Public transport": ("on the bus", "at the railway station"),
    "Other public place": (
        "in the park near the play area",
        "at the skate park",
        "outside the leisure centre",
    ),
    "Other": ("in a car", "at a friend's house"),
    "Unknown": ("not known", "patient did not say"),
}

METHOD_OTHER_TEXT: tuple[str, ...] = ("thrown object", "glass bottle", "kicked", "pushed over")
