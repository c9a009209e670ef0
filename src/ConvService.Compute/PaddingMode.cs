namespace ConvService.Compute;

/// <summary>How the spatial padding of a convolution is chosen.</summary>
public enum PaddingMode
{
    /// <summary>Use the explicit pads of <see cref="Conv2dOptions"/>.</summary>
    Explicit = 0,

    /// <summary>No padding.</summary>
    Valid = 1,

    /// <summary>TensorFlow's SAME: output ceil(in / stride); an odd total pad puts the extra row/column at the bottom/right.</summary>
    Same = 2,
}
