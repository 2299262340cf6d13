"""seqlab: train, compare and reproduce the classic findings of recurrent sequence models."""
