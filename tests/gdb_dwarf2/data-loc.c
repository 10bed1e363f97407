/* Two Ada unconstrained arrays as GNAT lays them out: a "fat pointer" (the data, then the bounds). The DWARF of
   data-loc.yaml finds the data by DW_AT_data_location and the bounds by expressions. No debug info. */
struct bounds { int first; int last; };
struct fat_pointer { int *data; struct bounds *bounds; };

int table_1_data[] = {1, 2, 3};
struct bounds table_1_bounds = {1, 3};
struct fat_pointer table_1 = {table_1_data, &table_1_bounds};

int table_2_data[] = {5, 8, 13, 21, 34};
struct bounds table_2_bounds = {2, 6};
struct fat_pointer table_2 = {table_2_data, &table_2_bounds};

int main(void) { return 0; }
