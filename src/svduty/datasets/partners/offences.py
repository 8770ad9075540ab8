"""Home Office offence codes used by the police and youth justice feeds (class/subclass), with
the description forces export beside them. An illustrative subset of the Home Office Counting
Rules classification, the offences a serious violence assessment looks at most."""

OFFENCES = {
    "001/00": "Murder",
    "004/01": "Manslaughter",
    "002/00": "Attempted murder",
    "005/01": "Wounding with intent to do grievous bodily harm",
    "008/01": "Assault occasioning actual bodily harm",
    "008/06": "Wounding or inflicting grievous bodily harm without intent",
    "105/01": "Assault without injury",
    "034/01": "Robbery of personal property",
    "034/02": "Robbery of business property",
    "010/01": "Possession of an article with a blade or point",
    "010/02": "Possession of an offensive weapon",
    "081/00": "Possession of a firearm with intent",
    "092/01": "Trafficking in controlled drugs",
    "092/02": "Possession of controlled drugs",
    "019/07": "Rape of a female aged 16 or over",
    "017/01": "Sexual assault on a female aged 13 or over",
    "056/01": "Arson endangering life",
    "058/01": "Criminal damage to a dwelling",
    "066/01": "Public fear, alarm or distress",
    "028/01": "Burglary in a dwelling",
    "049/00": "Other theft",
    "195/12": "Harassment",
}
