"""The accounting port: which package a company uses, and what every adapter must offer."""
