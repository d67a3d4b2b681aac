"""Networks and the one preprocessing module shared by train, export and infer."""
