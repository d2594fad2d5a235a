//! The one conversion between [`Keluarga`] and an Arrow [`RecordBatch`]: the columnar
//! register (docs/data-format.md, "Parquet register").
//!
//! One row per family. Family fields are flat columns named by their JSON path with
//! `_` for `.` (`housing.floor` → `housing_floor`); the members are one
//! `anggota: List<Struct>` column whose struct fields are the member's JSON fields
//! (`disability.seeing` → `disability_seeing`). Codes are `UInt8`, counts `UInt16` /
//! `UInt32`, dates `Date32`, text `Utf8` (the Parquet writer dictionary-encodes it).
//! An unanswered question is a null, as it is an absent field in JSON.
//!
//! Every path that reads or writes the columnar register (convert, gen, rank, validate)
//! goes through [`FamilyBatchBuilder`] and [`FamilyBatch`].

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, Date32Array, Date32Builder, Float64Array,
    Float64Builder, ListArray, StringArray, StringBuilder, StructArray, UInt8Array, UInt8Builder,
    UInt16Array, UInt16Builder, UInt32Array, UInt32Builder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use tepat_core::model::{
    Anggota, FamilyStatus, GeoPoint, Graduated, GraduationKind, Keluarga, PkhStatus,
};
use tepat_core::{Date, Sex};

/// One typed column: its Arrow type, builder and array.
trait Column: Sized {
    type Builder: ArrayBuilder + Default;
    type Array: Array + 'static;
    const NULLABLE: bool;
    fn data_type() -> DataType;
    fn append(b: &mut Self::Builder, v: &Self);
    fn get(a: &Self::Array, i: usize) -> Result<Self, String>;
}

macro_rules! primitive_column {
    ($t:ty, $builder:ty, $array:ty, $dt:expr) => {
        impl Column for $t {
            type Builder = $builder;
            type Array = $array;
            const NULLABLE: bool = false;
            fn data_type() -> DataType {
                $dt
            }
            fn append(b: &mut $builder, v: &$t) {
                b.append_value(*v);
            }
            fn get(a: &$array, i: usize) -> Result<$t, String> {
                if a.is_null(i) {
                    return Err("required value is null".into());
                }
                Ok(a.value(i))
            }
        }
        impl Column for Option<$t> {
            type Builder = $builder;
            type Array = $array;
            const NULLABLE: bool = true;
            fn data_type() -> DataType {
                $dt
            }
            fn append(b: &mut $builder, v: &Option<$t>) {
                b.append_option(*v);
            }
            fn get(a: &$array, i: usize) -> Result<Option<$t>, String> {
                Ok((!a.is_null(i)).then(|| a.value(i)))
            }
        }
    };
}

primitive_column!(u8, UInt8Builder, UInt8Array, DataType::UInt8);
primitive_column!(u16, UInt16Builder, UInt16Array, DataType::UInt16);
primitive_column!(u32, UInt32Builder, UInt32Array, DataType::UInt32);
primitive_column!(f64, Float64Builder, Float64Array, DataType::Float64);

impl Column for String {
    type Builder = StringBuilder;
    type Array = StringArray;
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn append(b: &mut StringBuilder, v: &String) {
        b.append_value(v);
    }
    fn get(a: &StringArray, i: usize) -> Result<String, String> {
        if a.is_null(i) {
            return Err("required text is null".into());
        }
        Ok(a.value(i).to_owned())
    }
}

impl Column for Option<String> {
    type Builder = StringBuilder;
    type Array = StringArray;
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn append(b: &mut StringBuilder, v: &Option<String>) {
        b.append_option(v.as_deref());
    }
    fn get(a: &StringArray, i: usize) -> Result<Option<String>, String> {
        Ok((!a.is_null(i)).then(|| a.value(i).to_owned()))
    }
}

fn date_of(days: i32) -> Result<Date, String> {
    Date::from_days_since_epoch(i64::from(days))
        .ok_or_else(|| format!("date {days} days after 1970-01-01 is out of range"))
}

fn days_of(d: Date) -> i32 {
    // A `Date` is within years 1..=9999, well inside i32 days.
    i32::try_from(d.days_since_epoch()).unwrap_or(i32::MIN)
}

impl Column for Date {
    type Builder = Date32Builder;
    type Array = Date32Array;
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        DataType::Date32
    }
    fn append(b: &mut Date32Builder, v: &Date) {
        b.append_value(days_of(*v));
    }
    fn get(a: &Date32Array, i: usize) -> Result<Date, String> {
        if a.is_null(i) {
            return Err("required date is null".into());
        }
        date_of(a.value(i))
    }
}

impl Column for Option<Date> {
    type Builder = Date32Builder;
    type Array = Date32Array;
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        DataType::Date32
    }
    fn append(b: &mut Date32Builder, v: &Option<Date>) {
        b.append_option(v.map(days_of));
    }
    fn get(a: &Date32Array, i: usize) -> Result<Option<Date>, String> {
        if a.is_null(i) {
            return Ok(None);
        }
        date_of(a.value(i)).map(Some)
    }
}

/// 405: the Regsosek code (1 laki-laki, 2 perempuan).
impl Column for Sex {
    type Builder = UInt8Builder;
    type Array = UInt8Array;
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        DataType::UInt8
    }
    fn append(b: &mut UInt8Builder, v: &Sex) {
        b.append_value(v.code());
    }
    fn get(a: &UInt8Array, i: usize) -> Result<Sex, String> {
        let code = u8::get(a, i)?;
        Sex::from_code(code).ok_or_else(|| format!("sex code {code} is not 1 or 2"))
    }
}

const STATUSES: [(FamilyStatus, &str); 6] = [
    (FamilyStatus::Active, "active"),
    (FamilyStatus::Moved, "moved"),
    (FamilyStatus::Split, "split"),
    (FamilyStatus::Merged, "merged"),
    (FamilyStatus::NotFound, "not_found"),
    (FamilyStatus::Ended, "ended"),
];

/// The family's lifecycle status by its JSON name (`active`, `moved`, ...).
impl Column for FamilyStatus {
    type Builder = StringBuilder;
    type Array = StringArray;
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn append(b: &mut StringBuilder, v: &FamilyStatus) {
        let name = STATUSES
            .iter()
            .find(|(s, _)| s == v)
            .map_or("active", |(_, n)| n);
        b.append_value(name);
    }
    fn get(a: &StringArray, i: usize) -> Result<FamilyStatus, String> {
        if a.is_null(i) {
            return Ok(FamilyStatus::default());
        }
        let name = a.value(i);
        STATUSES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(s, _)| *s)
            .ok_or_else(|| format!("status {name:?} is unknown"))
    }
}

/// Declares one group of columns: the fields, a builder and a typed reader.
macro_rules! columns {
    ($builders:ident, $arrays:ident, $t:ty, { $( $name:ident : $ty:ty = $($path:ident).+ ),* $(,)? }) => {
        #[derive(Default)]
        struct $builders {
            $( $name: <$ty as Column>::Builder, )*
        }

        impl $builders {
            fn fields() -> Vec<Field> {
                vec![ $( Field::new(stringify!($name), <$ty as Column>::data_type(), <$ty as Column>::NULLABLE), )* ]
            }
            fn append(&mut self, x: &$t) {
                $( <$ty as Column>::append(&mut self.$name, &x.$($path).+); )*
            }
            fn finish(&mut self) -> Vec<ArrayRef> {
                vec![ $( ArrayBuilder::finish(&mut self.$name), )* ]
            }
        }

        struct $arrays<'a> {
            $( $name: &'a <$ty as Column>::Array, )*
        }

        impl<'a> $arrays<'a> {
            fn new(column: &dyn Fn(&str) -> Option<&'a ArrayRef>) -> Result<Self, String> {
                Ok($arrays {
                    $( $name: column(stringify!($name))
                        .ok_or_else(|| format!("column {} is missing", stringify!($name)))?
                        .as_any()
                        .downcast_ref()
                        .ok_or_else(|| format!(
                            "column {} is not {}",
                            stringify!($name),
                            <$ty as Column>::data_type()
                        ))?, )*
                })
            }
            fn read_into(&self, i: usize, x: &mut $t) -> Result<(), String> {
                $( x.$($path).+ = <$ty as Column>::get(self.$name, i)
                    .map_err(|e| format!("{}: {e}", stringify!($name)))?; )*
                Ok(())
            }
        }
    };
}

columns!(FamilyBuilders, FamilyArrays, Keluarga, {
    no_kk: String = no_kk,
    version: u32 = version,
    rulebook_version: Option<String> = rulebook_version,
    status: FamilyStatus = status,
    origin_kk: Option<String> = origin_kk,
    merged_into: Option<String> = merged_into,
    ground_checked: Option<Date> = ground_checked,
    address_province: String = address.province,
    address_regency: String = address.regency,
    address_district: String = address.district,
    address_village: String = address.village,
    address_rt: Option<String> = address.rt,
    address_rw: Option<String> = address.rw,
    address_street: Option<String> = address.street,
    urban_rural: Option<u8> = urban_rural,
    member_count: Option<u16> = member_count,
    housing_ownership: Option<u8> = housing.ownership,
    housing_land_proof: Option<u8> = housing.land_proof,
    housing_floor_area_m2: Option<u32> = housing.floor_area_m2,
    housing_floor: Option<u8> = housing.floor,
    housing_wall: Option<u8> = housing.wall,
    housing_roof: Option<u8> = housing.roof,
    housing_drinking_water: Option<u8> = housing.drinking_water,
    housing_water_distance: Option<u8> = housing.water_distance,
    housing_lighting: Option<u8> = housing.lighting,
    housing_power: Option<u8> = housing.power,
    housing_pln_customer_id: Option<String> = housing.pln_customer_id,
    housing_cooking_fuel: Option<u8> = housing.cooking_fuel,
    housing_toilet: Option<u8> = housing.toilet,
    housing_toilet_type: Option<u8> = housing.toilet_type,
    housing_sewage_disposal: Option<u8> = housing.sewage_disposal,
    assets_programs_sembako: Option<u8> = assets.programs.sembako,
    assets_programs_pkh: Option<u8> = assets.programs.pkh,
    assets_programs_blt_desa: Option<u8> = assets.programs.blt_desa,
    assets_programs_electricity_subsidy: Option<u8> = assets.programs.electricity_subsidy,
    assets_programs_local_government_aid: Option<u8> = assets.programs.local_government_aid,
    assets_programs_fertilizer_subsidy: Option<u8> = assets.programs.fertilizer_subsidy,
    assets_programs_lpg_subsidy: Option<u8> = assets.programs.lpg_subsidy,
    assets_movable_gas_cylinder: Option<u8> = assets.movable.gas_cylinder,
    assets_movable_refrigerator: Option<u8> = assets.movable.refrigerator,
    assets_movable_air_conditioner: Option<u8> = assets.movable.air_conditioner,
    assets_movable_water_heater: Option<u8> = assets.movable.water_heater,
    assets_movable_landline: Option<u8> = assets.movable.landline,
    assets_movable_flat_tv: Option<u8> = assets.movable.flat_tv,
    assets_movable_gold: Option<u8> = assets.movable.gold,
    assets_movable_computer: Option<u8> = assets.movable.computer,
    assets_movable_motorcycle: Option<u8> = assets.movable.motorcycle,
    assets_movable_bicycle: Option<u8> = assets.movable.bicycle,
    assets_movable_car: Option<u8> = assets.movable.car,
    assets_movable_boat: Option<u8> = assets.movable.boat,
    assets_movable_motorboat: Option<u8> = assets.movable.motorboat,
    assets_movable_smartphone: Option<u8> = assets.movable.smartphone,
    assets_immovable_other_land: Option<u8> = assets.immovable.other_land,
    assets_immovable_other_house: Option<u8> = assets.immovable.other_house,
    assets_livestock_cattle: Option<u32> = assets.livestock.cattle,
    assets_livestock_buffalo: Option<u32> = assets.livestock.buffalo,
    assets_livestock_horse: Option<u32> = assets.livestock.horse,
    assets_livestock_pig: Option<u32> = assets.livestock.pig,
    assets_livestock_goat_sheep: Option<u32> = assets.livestock.goat_sheep,
    assets_internet: Option<u8> = assets.internet,
    assets_bank_account: Option<u8> = assets.bank_account,
});

/// The family fields that are not one column each: the GPS point and the PKH
/// graduation, both optional groups.
#[derive(Default)]
struct GroupFields {
    gps_lat: Option<f64>,
    gps_lon: Option<f64>,
    gps_accuracy_m: Option<f64>,
    pkh_graduated_kind: Option<String>,
    pkh_graduated_date: Option<Date>,
    pkh_graduated_reason: Option<String>,
}

impl GroupFields {
    fn of(k: &Keluarga) -> GroupFields {
        let g = k.pkh.graduated.as_ref();
        GroupFields {
            gps_lat: k.gps.map(|p| p.lat),
            gps_lon: k.gps.map(|p| p.lon),
            gps_accuracy_m: k.gps.and_then(|p| p.accuracy_m),
            pkh_graduated_kind: g.map(|g| g.kind.name().to_owned()),
            pkh_graduated_date: g.map(|g| g.date),
            pkh_graduated_reason: g.map(|g| g.reason.clone()),
        }
    }

    fn apply(self, k: &mut Keluarga) -> Result<(), String> {
        k.gps = match (self.gps_lat, self.gps_lon) {
            (Some(lat), Some(lon)) => Some(GeoPoint {
                lat,
                lon,
                accuracy_m: self.gps_accuracy_m,
            }),
            (None, None) if self.gps_accuracy_m.is_none() => None,
            _ => return Err("gps_lat, gps_lon: a GPS point needs both".into()),
        };
        k.pkh = match (
            self.pkh_graduated_kind,
            self.pkh_graduated_date,
            self.pkh_graduated_reason,
        ) {
            (None, None, None) => PkhStatus::default(),
            (Some(kind), Some(date), Some(reason)) => {
                let kind = match kind.as_str() {
                    "alamiah" => GraduationKind::Alamiah,
                    "mandiri" => GraduationKind::Mandiri,
                    other => {
                        return Err(format!("pkh_graduated_kind: {other:?} is unknown"));
                    }
                };
                PkhStatus {
                    graduated: Some(Graduated { kind, date, reason }),
                }
            }
            _ => {
                return Err(
                    "pkh_graduated_kind, pkh_graduated_date, pkh_graduated_reason: a graduation needs all three"
                        .into(),
                );
            }
        };
        Ok(())
    }
}

columns!(GroupBuilders, GroupArrays, GroupFields, {
    gps_lat: Option<f64> = gps_lat,
    gps_lon: Option<f64> = gps_lon,
    gps_accuracy_m: Option<f64> = gps_accuracy_m,
    pkh_graduated_kind: Option<String> = pkh_graduated_kind,
    pkh_graduated_date: Option<Date> = pkh_graduated_date,
    pkh_graduated_reason: Option<String> = pkh_graduated_reason,
});

columns!(MemberBuilders, MemberArrays, Anggota, {
    nik: String = nik,
    name: String = name,
    number: Option<u16> = number,
    presence: u8 = presence,
    presence_date: Option<Date> = presence_date,
    moved_to: Option<String> = moved_to,
    sex: Sex = sex,
    birth_date: Date = birth_date,
    marital_status: Option<u8> = marital_status,
    relationship: u8 = relationship,
    id_document: Option<u8> = id_document,
    school_participation: Option<u8> = school_participation,
    education_level: Option<u8> = education_level,
    highest_grade: Option<u8> = highest_grade,
    certificate: Option<u8> = certificate,
    worked_last_week: Option<u8> = worked_last_week,
    work_hours: Option<u8> = work_hours,
    sector: Option<u8> = sector,
    employment_status: Option<u8> = employment_status,
    business_turnover: Option<u8> = business_turnover,
    child_nutrition: Option<u8> = child_nutrition,
    disability_seeing: Option<u8> = disability.seeing,
    disability_hearing: Option<u8> = disability.hearing,
    disability_walking: Option<u8> = disability.walking,
    disability_hands: Option<u8> = disability.hands,
    disability_learning: Option<u8> = disability.learning,
    disability_behaviour: Option<u8> = disability.behaviour,
    disability_speaking: Option<u8> = disability.speaking,
    disability_self_care: Option<u8> = disability.self_care,
    disability_remembering: Option<u8> = disability.remembering,
    chronic_illness: Option<u8> = chronic_illness,
    jkn: Option<u8> = jkn,
    pregnant: Option<u8> = pregnant,
});

fn member_fields() -> Fields {
    Fields::from(MemberBuilders::fields())
}

fn anggota_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(member_fields()), false))
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = FamilyBuilders::fields();
    fields.extend(GroupBuilders::fields());
    fields.push(Field::new("anggota", DataType::List(anggota_item()), false));
    Arc::new(Schema::new(fields))
});

/// The Arrow schema of the columnar register (one row per family).
pub fn schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Rows per record batch when streaming the register.
pub const BATCH_ROWS: usize = 8 * 1024;

/// Builds record batches of families.
#[derive(Default)]
pub struct FamilyBatchBuilder {
    family: FamilyBuilders,
    groups: GroupBuilders,
    members: MemberBuilders,
    offsets: Vec<usize>,
    rows: usize,
}

impl FamilyBatchBuilder {
    pub fn new() -> FamilyBatchBuilder {
        FamilyBatchBuilder::default()
    }

    /// Families appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn append(&mut self, k: &Keluarga) {
        self.family.append(k);
        self.groups.append(&GroupFields::of(k));
        for a in &k.anggota {
            self.members.append(a);
        }
        self.offsets.push(k.anggota.len());
        self.rows += 1;
    }

    /// The families appended so far as one batch; the builder is empty after.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut columns = self.family.finish();
        columns.extend(self.groups.finish());
        let members = StructArray::try_new(member_fields(), self.members.finish(), None)?;
        let offsets = OffsetBuffer::from_lengths(self.offsets.drain(..));
        let list = ListArray::try_new(anggota_item(), offsets, Arc::new(members), None)?;
        columns.push(Arc::new(list));
        self.rows = 0;
        RecordBatch::try_new(schema(), columns)
    }
}

/// A record batch of the register, typed for reading families back.
pub struct FamilyBatch<'a> {
    family: FamilyArrays<'a>,
    groups: GroupArrays<'a>,
    members: MemberArrays<'a>,
    anggota: &'a ListArray,
    rows: usize,
}

impl<'a> FamilyBatch<'a> {
    /// Checks that `batch` has the register's columns and types (extra columns are
    /// ignored). `Err` names the first column that is missing or of another type.
    pub fn new(batch: &'a RecordBatch) -> Result<FamilyBatch<'a>, String> {
        Self::from_columns(batch.num_rows(), &|name| batch.column_by_name(name))
    }

    /// As [`new`](Self::new), over columns looked up by name.
    pub fn from_columns(
        rows: usize,
        column: &dyn Fn(&str) -> Option<&'a ArrayRef>,
    ) -> Result<FamilyBatch<'a>, String> {
        let anggota = column("anggota")
            .ok_or("column anggota is missing")?
            .as_list_opt::<i32>()
            .ok_or("column anggota is not a list")?;
        let values = anggota
            .values()
            .as_struct_opt()
            .ok_or("column anggota is not a list of structs")?;
        Ok(FamilyBatch {
            family: FamilyArrays::new(column)?,
            groups: GroupArrays::new(column)?,
            members: MemberArrays::new(&|name| values.column_by_name(name))
                .map_err(|e| format!("anggota: {e}"))?,
            anggota,
            rows,
        })
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `i` as a family; `Err` says which value is unreadable.
    pub fn family(&self, i: usize) -> Result<Keluarga, String> {
        let mut k = Keluarga::default();
        self.family.read_into(i, &mut k)?;
        let mut groups = GroupFields::default();
        self.groups.read_into(i, &mut groups)?;
        groups.apply(&mut k)?;
        if self.anggota.is_null(i) {
            return Ok(k);
        }
        let offsets = self.anggota.value_offsets();
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        k.anggota.reserve(end - start);
        let epoch = Date::from_days_since_epoch(0).ok_or("1970-01-01 is not a date")?;
        for m in start..end {
            let mut a = Anggota::new("", "", Sex::Male, epoch, 0);
            self.members
                .read_into(m, &mut a)
                .map_err(|e| format!("anggota[{}]: {e}", m - start))?;
            k.anggota.push(a);
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_one_row_per_family_with_nested_members() {
        let s = schema();
        assert_eq!(
            s.field_with_name("housing_floor").unwrap().data_type(),
            &DataType::UInt8
        );
        assert!(matches!(
            s.field_with_name("anggota").unwrap().data_type(),
            DataType::List(_)
        ));
    }
}
