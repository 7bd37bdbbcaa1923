"""Building: typed Spec -> keras.Model. The only stage (with weights) that imports TensorFlow."""
