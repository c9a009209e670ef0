namespace ConvService.Compute.Kernels;

/// <summary>B rows are used as read; the mask arguments are ignored.</summary>
internal readonly struct ColumnUnmasked : IColumnMask
{
    public static bool Enabled => false;
}
