"""infer: streaming timeslide inference (onnxruntime or Triton) fanned out on Ray."""
