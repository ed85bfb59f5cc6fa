"""Demo customers: realistic names, fictional phone numbers (555-0101 to 555-0199) and example.* emails."""

from dataclasses import dataclass, field

from communications.models import Customer

FIRST_NAMES = [
    "Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
    "Emily", "Ella", "Elizabeth", "Camila", "Luna", "Sofia", "Avery", "Mila", "Aria", "Scarlett",
    "Penelope", "Layla", "Chloe", "Victoria", "Madison", "Eleanor", "Grace", "Nora", "Riley", "Zoey",
    "Hannah", "Hazel", "Lily", "Ellie", "Violet", "Lillian", "Zoe", "Stella", "Aurora", "Natalie",
    "Emilia", "Everly", "Leah", "Aubrey", "Willow", "Addison", "Lucy", "Audrey", "Bella", "Nova",
    "Brooklyn", "Paisley", "Savannah", "Claire", "Skylar", "Jessica", "Ashley", "Samantha", "Lauren",
    "Rachel", "Megan", "Nicole", "Stephanie", "Danielle", "Priya", "Aisha", "Mei", "Yasmin", "Carmen",
    "Gabriela", "Naomi", "Tanya", "Erin", "Kristen", "Allison", "Jenna", "Monica", "Dana", "Renee",
    "Michael", "James", "David", "Daniel", "Chris", "Ryan", "Kevin", "Jason", "Andre", "Marco",
]

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Patel", "Shah", "Kim", "Chen", "Wong", "Cohen", "Goldberg", "Rossi", "Russo", "O'Brien",
    "Murphy", "Sullivan", "Kelly", "Brennan", "Novak", "Kowalski", "Silva", "Costa", "Okafor", "Mensah",
]

AREA_CODES = ["212", "646", "917", "718", "347", "201", "914"]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

NOTES = [
    "Prefers afternoon appointments.",
    "Sensitive skin; patch test before any peel.",
    "Referred by a friend; referral credit applied.",
    "Glow Club member since last spring.",
    "Bruises easily; arnica recommended after injectables.",
    "Prefers texts to calls.",
    "Getting married in the spring; planning a facial series.",
    "Cold sores in the past; valacyclovir before lip filler.",
]


@dataclass
class DemoPerson:
    """A customer being drawn up, plus what the history needs to remember about them."""

    customer: Customer
    first_name: str
    key: int
    seen: bool = False  # has talked to the clinic before (Ava recognises the number)
    visits: list = field(default_factory=list)  # [(start, will_complete)] of their appointments

    @property
    def full_name(self):
        return self.customer.name

    def is_returning(self, at):
        """Had a completed visit before `at`: a new client must consult first for some treatments."""
        return any(start < at and completes for start, completes in self.visits)


def make_people(rng, count):
    """`count` people with unique names, phones and emails; about three in four give an email."""
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    numbers = [f"+1{area}5550{suffix}" for area in AREA_CODES for suffix in range(101, 200)]
    rng.shuffle(numbers)
    people, used_emails = [], set()
    for key, (first, last) in enumerate(names[:count]):
        email = None
        if rng.random() < 0.75:
            local = rng.choice([f"{first}.{last}", f"{first}{last[0]}", f"{first[0]}{last}", f"{first}.{last}{rng.randint(1, 99)}"])
            local = local.lower().replace("'", "")
            email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
            if email in used_emails:
                email = f"{local}{key}@{rng.choice(EMAIL_DOMAINS)}"
            used_emails.add(email)
        customer = Customer(
            name=f"{first} {last}",
            phone=numbers[key],
            email=email,
            notes=rng.choice(NOTES) if rng.random() < 0.18 else "",
        )
        people.append(DemoPerson(customer=customer, first_name=first, key=key))
    return people
