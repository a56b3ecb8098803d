"""The review app's routes, one router per part of the job: sign-in, the lists, one item."""
