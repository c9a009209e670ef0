namespace ConvService.Compute.Kernels;

/// <summary>B rows are ANDed with the mask row at <c>masks + maskRows[k]</c> (taps that cross a row edge).</summary>
internal readonly struct ColumnMasked : IColumnMask
{
    public static bool Enabled => true;
}
