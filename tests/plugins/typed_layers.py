"""Plugin layer classes whose arguments are typed by annotations, hold Keras objects
(an initializer, a regularizer, a wrapped layer) or refuse values themselves."""
import keras


@keras.saving.register_keras_serializable(package="typed")
class Scale(keras.layers.Layer):
    def __init__(self, factor: float = 2.0, kernel_initializer="ones", kernel_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if factor < 0:
            raise ValueError(f"factor must be >= 0, received {factor}")
        self.factor = factor
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1],),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)

    def call(self, x):
        return x * self.kernel * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


@keras.saving.register_keras_serializable(package="typed")
class Residual(keras.layers.Layer):
    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)

    def call(self, x):
        return x + self.layer(x)

    def get_config(self):
        return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="typed")
class Holder(keras.layers.Layer):
    def __init__(self, thing=None, **kwargs):
        super().__init__(**kwargs)
        self.thing = thing

    def call(self, x):
        return x

    def get_config(self):
        return {**super().get_config(), "thing": keras.saving.serialize_keras_object(self.thing)}


@keras.saving.register_keras_serializable(package="typed")
class Fixed(keras.layers.Layer):
    """No **kwargs: Layer's own name, dtype and trainable are not arguments."""

    def __init__(self, sizes: list[int] = (1, 2), label: str = "x"):
        super().__init__()
        self.sizes, self.label = list(sizes), label

    def call(self, x):
        return x


@keras.saving.register_keras_serializable(package="typed")
class Clash(keras.layers.Layer):
    """An argument named as a key of every spec layer: refused, with the reason."""

    def __init__(self, inputs=2, **kwargs):
        super().__init__(**kwargs)
        self.inputs = inputs

    def call(self, x):
        return x
