"""Sign-in, sign-out and each user's language."""
