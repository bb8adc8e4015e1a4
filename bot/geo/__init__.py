"""Geography: where people live (offline geocoding) and how far apart they are."""
