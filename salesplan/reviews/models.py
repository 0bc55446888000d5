"""Weekly reviews: the models of salesplan.reviews."""
