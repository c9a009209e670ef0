namespace ConvService.Compute;

/// <summary>Widest vector width a kernel may use. Picked once from the CPU; tests force narrower paths.</summary>
public enum SimdLevel
{
    Scalar = 0,
    Vector128 = 128,
    Vector256 = 256,
    Vector512 = 512,
}
